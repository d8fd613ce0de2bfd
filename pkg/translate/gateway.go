package translate

import "github.com/plainenvoy/controlplane/pkg/model"

func gatewayResources(in Inputs) (Resources, []model.Problem) { return Resources{}, nil }
