package translate

import (
	listenerv3 "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// rbacNetworkFilters builds envoy.filters.network.rbac (and ext_authz) for TCP chains.
// TODO(#7): implement.
func rbacNetworkFilters(in Inputs) ([]*listenerv3.Filter, []model.Problem) { return nil, nil }
