package translate

import "github.com/plainenvoy/controlplane/pkg/model"

func sidecarResources(in Inputs) (Resources, []model.Problem) { return Resources{}, nil }
