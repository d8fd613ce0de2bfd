package translate

import (
	"fmt"
	"strings"

	"github.com/plainenvoy/controlplane/pkg/model"
)

// conditionAttr resolves a when key to its attribute (SEMANTICS.md §4.2). Principal-side keys
// are ANDed into every from entry, permission-side keys into every to entry.
func (c authzContext) conditionAttr(key string) (authzAttr, error) {
	switch key {
	case "source.ip":
		return ipBlocksAttr(), nil
	case "remote.ip":
		return remoteIPBlocksAttr(), nil
	case "source.namespace":
		return namespacesAttr(), nil
	case "source.principal":
		return c.principalsAttr(), nil
	case "source.serviceAccount":
		return c.serviceAccountsAttr(), nil
	case "source.trustDomain":
		return c.trustDomainsAttr(), nil
	case "request.auth.principal":
		return requestPrincipalsAttr(), nil
	case "request.auth.audiences":
		return claimAttr([]string{"aud"}), nil
	case "request.auth.presenter":
		return claimAttr([]string{"azp"}), nil
	case "destination.ip":
		return destinationIPAttr(), nil
	case "destination.port":
		return portsAttr(), nil
	case "connection.sni":
		return sniAttr(), nil
	}
	if err := model.AuthzConditionKeyError(key); err != nil {
		return authzAttr{}, err
	}
	switch {
	case strings.HasPrefix(key, "request.headers["):
		name, err := model.AuthzKeyName(key, "request.headers")
		if err != nil {
			return authzAttr{}, err
		}
		return headerAttr(name), nil
	case strings.HasPrefix(key, "request.auth.claims["):
		path, err := model.AuthzClaimPath(key)
		if err != nil {
			return authzAttr{}, err
		}
		return claimAttr(path), nil
	case strings.HasPrefix(key, "experimental.envoy.filters."):
		return envoyFilterAttr(key), nil
	}
	// The validation table accepts a key this switch does not know: fail closed.
	return authzAttr{}, fmt.Errorf("unsupported attribute: %s", key)
}
