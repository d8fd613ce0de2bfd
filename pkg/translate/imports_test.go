package translate_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps translation pure: it may depend on the model, Envoy's protos, protobuf
// and the standard library, never on sources, jwks, snapshot, Kubernetes, HTTP or the OS.
func TestImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/plainenvoy/controlplane/pkg/sources",
		"github.com/plainenvoy/controlplane/pkg/jwks",
		"github.com/plainenvoy/controlplane/pkg/snapshot",
		"k8s.io/", "istio.io/client-go", "net/http", "os/exec",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if strings.HasPrefix(dep, f) {
				t.Errorf("pkg/translate depends on %s", dep)
			}
		}
	}
}
