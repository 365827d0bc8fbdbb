package fedgate

import (
	"flag"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/fedgate/gateway/config"
	"github.com/goccy/go-yaml"
)

// TestK8sMemoryFits: the Kubernetes manifests give the gateway a memory
// budget that does not depend on the node's core count, and the Go soft
// memory limit the gateway derives from its configuration (memoryLimit,
// raised for the stream connections subscriptions.max_connections allows)
// stays under the container's memory limit with room for the rest of the
// process. Without --max-inflight-mb the budget follows GOMAXPROCS, the
// node's cores when the pod has no CPU limit, and on a large node the soft
// limit passes the container's: the collector is not pushed before the
// kernel kills the pod.
func TestK8sMemoryFits(t *testing.T) {
	var dep struct {
		Spec struct {
			Template struct {
				Spec struct {
					Containers []struct {
						Name      string
						Args      []string
						Resources struct {
							Limits map[string]string
						}
					}
				}
			}
		}
	}
	readYAML(t, "../../deploy/k8s/deployment.yaml", &dep)
	var cm struct{ Data map[string]string }
	readYAML(t, "../../deploy/k8s/configmap.yaml", &cm)
	cfg, err := config.Parse([]byte(cm.Data["gateway.yaml"]), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("the ConfigMap's gateway.yaml: %v", err)
	}
	containers := dep.Spec.Template.Spec.Containers
	if len(containers) == 0 || containers[0].Name != "gateway" || len(containers[0].Args) == 0 || containers[0].Args[0] != "serve" {
		t.Fatalf("deployment.yaml: want a first container gateway running serve: %+v", containers)
	}
	c := containers[0]
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	shared := addSharedFlags(fs)
	fs.String("supergraph", "", "")
	if err := fs.Parse(c.Args[1:]); err != nil {
		t.Fatalf("the container's args: %v", err)
	}
	fixed := strings.Contains(cm.Data["gateway.yaml"], "max_inflight_bytes:")
	fs.Visit(func(f *flag.Flag) { fixed = fixed || f.Name == "max-inflight-mb" })
	if !fixed {
		t.Error("the manifests leave server.max_inflight_bytes to its default, which follows the node's core count")
	}
	if err := shared.apply(fs, &cfg); err != nil {
		t.Fatal(err)
	}
	limit := quantity(t, c.Resources.Limits["memory"])
	soft := memoryLimit(cfg) + streamsMemory(cfg.Subscriptions) // as setMemoryLimit, then raiseMemoryLimit
	if soft <= 0 || soft > limit*85/100 {
		t.Errorf("soft memory limit %d MiB, container limit %d MiB: want it at most 85%% of the container's", soft>>20, limit>>20)
	}
	t.Logf("soft memory limit %d MiB of the container's %d MiB", soft>>20, limit>>20)
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// quantity reads a Kubernetes memory quantity in Mi or Gi.
func quantity(t *testing.T, q string) int64 {
	t.Helper()
	for suffix, unit := range map[string]int64{"Mi": 1 << 20, "Gi": 1 << 30} {
		if n, ok := strings.CutSuffix(q, suffix); ok {
			v, err := strconv.ParseInt(n, 10, 64)
			if err == nil {
				return v * unit
			}
		}
	}
	t.Fatalf("memory quantity %q: want NMi or NGi", q)
	return 0
}
