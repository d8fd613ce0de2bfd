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
	// settings is what readSettings read from meshConfigFile.
	settings meshConfig
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
		"YAML file with MeshConfig fields: extensionProviders (envoyExtAuthzHttp/envoyExtAuthzGrpc) for CUSTOM authorization, meshMTLS, tlsDefaults")
}

// readSettings reads --mesh-config into f.settings; call it before mesh(). The problems are
// warnings (errors fail the call).
func (f *meshFlags) readSettings() ([]model.Problem, error) {
	mc, problems, err := readMeshConfig(f.meshConfigFile)
	f.settings = mc
	return problems, err
}

func (f *meshFlags) mesh() model.Mesh {
	return model.Mesh{
		RootNamespace: f.rootNamespace, TrustDomain: f.trustDomain, TrustDomainAliases: f.trustDomainAliases,
		MeshMTLS: f.settings.MeshMTLS, TLSDefaults: f.settings.TLSDefaults,
	}.WithDefaults()
}

// load reads --mesh-config and the --config directory once, for the commands that work on a
// snapshot of the files rather than watching them.
func (f *meshFlags) load() (*model.Store, []model.Problem, []translate.ExtAuthzProvider, error) {
	meshProblems, err := f.readSettings()
	if err != nil {
		return nil, nil, nil, err
	}
	src, err := file.New(file.Options{Dir: f.configDir, Mesh: f.mesh()})
	if err != nil {
		return nil, nil, nil, err
	}
	store, problems, err := src.Load()
	return store, append(meshProblems, problems...), f.settings.ExtensionProviders, err
}
