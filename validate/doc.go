// Package validate holds GraphQL validation rules of the gateway's own,
// run beside gqlparser's default rules (server adds them): rules of the
// spec's drafts that gqlparser does not have.
package validate
