package translate

import (
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// customAuthzFilters builds the CUSTOM pair (RBAC shadow + ext_authz). TODO(#7): implement.
func customAuthzFilters(in Inputs) ([]*hcmv3.HttpFilter, []model.Problem) { return nil, nil }

// rbacHTTPFilters builds the envoy.filters.http.rbac filter for one action. TODO(#7): implement.
func rbacHTTPFilters(in Inputs, action policyAction) ([]*hcmv3.HttpFilter, []model.Problem) {
	return nil, nil
}
