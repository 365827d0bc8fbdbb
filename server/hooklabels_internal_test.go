package server

import (
	"slices"
	"strings"
	"testing"

	"github.com/fedgate/gateway/pkg/hooks"
)

// TestMetricLabels: the hook sets' label names are gathered once each; a
// name Prometheus refuses, or one of the request metrics' own labels, is
// refused at start with what is wrong.
func TestMetricLabels(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels [][]string
		want   []string
		err    string
	}{
		{"none", nil, nil, ""},
		{"union in order", [][]string{{"tenant", "plan"}, {"plan", "region"}}, []string{"tenant", "plan", "region"}, ""},
		{"a dash", [][]string{{"tenant-id"}}, nil, `label "tenant-id" is not a Prometheus label name`},
		{"reserved prefix", [][]string{{"__name"}}, nil, `label "__name" is not a Prometheus label name`},
		{"a digit first", [][]string{{"1tenant"}}, nil, "not a Prometheus label name"},
		{"status", [][]string{{"status"}}, nil, `label "status" is one of the request metrics' own`},
		{"operation", [][]string{{"tenant"}, {"operation"}}, nil, `label "operation" is one of the request metrics' own`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hs []hooks.Hooks
			for _, l := range tc.labels {
				hs = append(hs, hooks.Hooks{Labels: l})
			}
			got, err := metricLabels(hs)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tc.want) {
				t.Fatalf("%v %v, want %v", got, err, tc.want)
			}
		})
	}
}
