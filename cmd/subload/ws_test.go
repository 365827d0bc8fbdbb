package main

import (
	"testing"
)

func TestParseNext(t *testing.T) {
	tests := []struct {
		name    string
		msg     string
		sub     int
		sent    int64
		next    bool
		eventOK bool
	}{
		{"completed event", `{"id":"42","type":"next","payload":{"data":{"reviewAdded":{"body":"1765000000123456789","product":{"upc":"1","name":"Table","inStock":true}}}}}`, 42, 1765000000123456789, true, true},
		{"no product name", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"12","product":{"upc":"1","name":"","inStock":true}}}}}`, 7, 0, true, false},
		{"product not completed", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"12","product":null}}}}`, 7, 0, true, false},
		{"errors", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"12","product":{"name":"Table"}}},"errors":[{"message":"x"}]}}`, 7, 0, true, false},
		{"body not a time", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"12a","product":{"name":"Table"}}}}}`, 7, 0, true, false},
		{"body over int64", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"9223372036854775808","product":{"name":"Table"}}}}}`, 7, 0, true, false},
		{"body of 20 digits", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"17650000001234567890","product":{"name":"Table"}}}}}`, 7, 0, true, false},
		{"empty body", `{"id":"7","type":"next","payload":{"data":{"reviewAdded":{"body":"","product":{"name":"Table"}}}}}`, 7, 0, true, false},
		{"ping", `{"type":"ping"}`, 0, 0, false, false},
		{"error message", `{"id":"7","type":"error","payload":[]}`, 0, 0, false, false},
		{"id not a number", `{"id":"a7","type":"next","payload":{}}`, 0, 0, false, false},
		{"id too long", `{"id":"1234567890","type":"next","payload":{}}`, 0, 0, false, false},
		{"empty id", `{"id":"","type":"next","payload":{}}`, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sub, payload, ok := parseNext([]byte(tt.msg))
			if ok != tt.next {
				t.Fatalf("parseNext ok = %v, want %v", ok, tt.next)
			}
			if !ok {
				return
			}
			if sub != tt.sub {
				t.Errorf("sub = %d, want %d", sub, tt.sub)
			}
			sent, ok := eventTime(payload)
			if ok != tt.eventOK || sent != tt.sent {
				t.Errorf("eventTime = %d, %v, want %d, %v", sent, ok, tt.sent, tt.eventOK)
			}
		})
	}
}
