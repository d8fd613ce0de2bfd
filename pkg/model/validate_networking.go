package model

// Networking and peer-authentication checks. TODO(#4): implement (owned by the file-source work).

func validatePeerAuthentication(pa *PeerAuthentication, mesh Mesh) []Problem { return nil }
func validateGateway(g *Gateway) []Problem                                   { return nil }
func validateVirtualService(vs *VirtualService) []Problem                    { return nil }
func validateDestinationRule(dr *DestinationRule) []Problem                  { return nil }
func validateServiceEntry(se *ServiceEntry) []Problem                        { return nil }
func validateWorkloadEntry(we *WorkloadEntry) []Problem                      { return nil }
