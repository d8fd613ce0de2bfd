package main

import (
	"github.com/spf13/pflag"

	"github.com/plainenvoy/controlplane/pkg/model"
	"github.com/plainenvoy/controlplane/pkg/sources/file"
	"github.com/plainenvoy/controlplane/pkg/translate"
)

// meshFlags are the mesh-wide settings every command that reads policy needs.
type meshFlags struct {
	configDir          string
	rootNamespace      string
	trustDomain        string
	trustDomainAliases []string
	meshConfigFile     string
}

func (f *meshFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.configDir, "config", "", "directory of Istio YAML files to read (recursive)")
	fs.StringVar(&f.rootNamespace, "root-namespace", model.DefaultRootNamespace,
		"namespace whose selector-less policies apply mesh-wide (Istio MeshConfig rootNamespace)")
	fs.StringVar(&f.trustDomain, "trust-domain", model.DefaultTrustDomain,
		"SPIFFE trust domain of workload identities (Istio MeshConfig trustDomain)")
	fs.StringSliceVar(&f.trustDomainAliases, "trust-domain-alias", nil,
		"other trust domains treated as this one in principals (repeatable; MeshConfig trustDomainAliases)")
	fs.StringVar(&f.meshConfigFile, "mesh-config", "",
		"YAML file with MeshConfig-style extensionProviders (envoyExtAuthzHttp/envoyExtAuthzGrpc) for CUSTOM authorization")
}

func (f *meshFlags) mesh() model.Mesh {
	return model.Mesh{
		RootNamespace: f.rootNamespace, TrustDomain: f.trustDomain, TrustDomainAliases: f.trustDomainAliases,
	}.WithDefaults()
}

// load reads --mesh-config and the --config directory once, for the commands that work on a
// snapshot of the files rather than watching them.
func (f *meshFlags) load() (*model.Store, []model.Problem, []translate.ExtAuthzProvider, error) {
	providers, err := readMeshConfig(f.meshConfigFile)
	if err != nil {
		return nil, nil, nil, err
	}
	src, err := file.New(file.Options{Dir: f.configDir, Mesh: f.mesh()})
	if err != nil {
		return nil, nil, nil, err
	}
	store, problems, err := src.Load()
	return store, problems, providers, err
}
