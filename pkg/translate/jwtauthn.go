package translate

import (
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// jwtAuthnFilters builds envoy.filters.http.jwt_authn from the RequestAuthentications that
// select the proxy. TODO(#6): implement.
func jwtAuthnFilters(in Inputs) ([]*hcmv3.HttpFilter, []model.Problem) { return nil, nil }
