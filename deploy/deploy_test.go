// Package deploy holds the container and Kubernetes files; its test
// checks that they parse and fit together.
package deploy

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dustin/go-humanize"
	"github.com/fedgate/gateway/config"
	"github.com/goccy/go-yaml"
)

// object is one Kubernetes manifest.
type object map[string]any

func (o object) get(path ...string) any {
	var v any = map[string]any(o)
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

func (o object) str(path ...string) string { s, _ := o.get(path...).(string); return s }

// load parses every document of every file in k8s/.
func load(t *testing.T) map[string]object {
	t.Helper()
	files, err := filepath.Glob("k8s/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests: %v", err)
	}
	out := map[string]object{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var o object
			err := dec.Decode(&o)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if o.str("apiVersion") == "" || o.str("kind") == "" {
				t.Fatalf("%s document %d has no apiVersion or kind", f, i)
			}
			if o.str("kind") == "Kustomization" {
				out["Kustomization"] = o
				continue
			}
			name := o.str("metadata", "name")
			if name == "" {
				t.Fatalf("%s document %d has no metadata.name", f, i)
			}
			out[o.str("kind")+"/"+name] = o
		}
	}
	return out
}

func TestManifests(t *testing.T) {
	objs := load(t)
	for _, want := range []string{"Deployment/fedgate", "Service/fedgate", "HorizontalPodAutoscaler/fedgate",
		"PodDisruptionBudget/fedgate", "ConfigMap/fedgate-config", "Deployment/fedgate-redis", "Service/fedgate-redis", "Kustomization"} {
		if _, ok := objs[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	dep := objs["Deployment/fedgate"]
	labels, _ := dep.get("spec", "template", "metadata", "labels").(map[string]any)
	matches := func(sel any) bool {
		m, ok := sel.(map[string]any)
		if !ok || len(m) == 0 {
			return false
		}
		for k, v := range m {
			if labels[k] != v {
				return false
			}
		}
		return true
	}
	if !matches(dep.get("spec", "selector", "matchLabels")) {
		t.Error("the Deployment's selector does not match its pods")
	}
	if !matches(objs["Service/fedgate"].get("spec", "selector")) {
		t.Error("the Service does not select the gateway pods")
	}
	if !matches(objs["PodDisruptionBudget/fedgate"].get("spec", "selector", "matchLabels")) {
		t.Error("the PodDisruptionBudget does not select the gateway pods")
	}
	if objs["HorizontalPodAutoscaler/fedgate"].str("spec", "scaleTargetRef", "name") != "fedgate" {
		t.Error("the HPA does not scale the gateway Deployment")
	}
	// With an HPA, spec.replicas in the manifest resets the count the HPA
	// chose at every apply (Kubernetes' HPA documentation says to leave it out).
	if dep.get("spec", "replicas") != nil {
		t.Error("the Deployment sets spec.replicas though the HPA owns the count")
	}

	containers, _ := dep.get("spec", "template", "spec", "containers").([]any)
	if len(containers) != 1 {
		t.Fatalf("%d containers", len(containers))
	}
	c := object(containers[0].(map[string]any))
	if c.str("livenessProbe", "httpGet", "path") != "/health" || c.str("readinessProbe", "httpGet", "path") != "/ready" {
		t.Error("liveness must probe /health and readiness /ready")
	}
	if c.get("resources", "requests", "cpu") == nil || c.get("resources", "limits", "memory") == nil {
		t.Error("the gateway container needs cpu requests and a memory limit")
	}
	var args []string
	for _, a := range c.get("args").([]any) {
		args = append(args, a.(string))
	}
	joined := strings.Join(args, " ")
	for _, want := range []string{"serve", "--config=/etc/fedgate/gateway.yaml", "--listen=0.0.0.0:4000", "--drain-delay="} {
		if !strings.Contains(joined, want) {
			t.Errorf("container args %q lack %s", joined, want)
		}
	}

	// The configuration in the ConfigMap is valid and fits the pod.
	gw := objs["ConfigMap/fedgate-config"].str("data", "gateway.yaml")
	cfg, err := config.Parse([]byte(gw), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("ConfigMap gateway.yaml: %v", err)
	}
	if cfg.Server.Listen != "0.0.0.0:4000" || cfg.Telemetry.Metrics.Prometheus.Listen != "0.0.0.0:9090" {
		t.Errorf("listeners %s and %s do not match the container ports 4000 and 9090", cfg.Server.Listen, cfg.Telemetry.Metrics.Prometheus.Listen)
	}
	if !strings.Contains(cfg.Redis.URL, "fedgate-redis:6379") {
		t.Errorf("redis.url %q does not point at the fedgate-redis Service", cfg.Redis.URL)
	}
	// A read-only root file system leaves the gateway a writable place
	// for what it writes: upload spool files (uploads.spool_dir, else /tmp).
	if ro, _ := c.get("securityContext", "readOnlyRootFilesystem").(bool); ro {
		spool := cfg.Uploads.SpoolDir
		if spool == "" {
			spool = "/tmp"
		}
		writable := ""
		mounts, _ := c.get("volumeMounts").([]any)
		for _, m := range mounts {
			mo := object(m.(map[string]any))
			if readOnly, _ := mo.get("readOnly").(bool); mo.str("mountPath") == spool && !readOnly {
				writable = mo.str("name")
			}
		}
		if writable == "" {
			t.Errorf("readOnlyRootFilesystem, and no writable volume at %s for upload spool files", spool)
		}
		// The spool, bounded for all requests by uploads.max_spool_bytes,
		// fits the volume: past an emptyDir's sizeLimit the pod is evicted.
		vols, _ := dep.get("spec", "template", "spec", "volumes").([]any)
		for _, v := range vols {
			vo := object(v.(map[string]any))
			if vo.str("name") != writable || vo.get("emptyDir") == nil {
				continue
			}
			limit := vo.str("emptyDir", "sizeLimit")
			n, err := humanize.ParseBytes(limit)
			switch {
			case limit == "":
				// no limit: the node's disk
			case err != nil:
				t.Errorf("emptyDir %s sizeLimit %q: %v", writable, limit, err)
			case cfg.Uploads.MaxSpoolBytes <= 0 || uint64(cfg.Uploads.MaxSpoolBytes) > n: // checked off too: turning uploads on must not evict
				t.Errorf("uploads.max_spool_bytes %d does not fit the spool volume's sizeLimit %s", cfg.Uploads.MaxSpoolBytes, limit)
			}
		}
	}
	grace, _ := dep.get("spec", "template", "spec", "terminationGracePeriodSeconds").(uint64)
	if float64(grace) <= (cfg.Server.ShutdownTimeout.Seconds() + 5) {
		t.Errorf("terminationGracePeriodSeconds %d is not longer than the drain delay plus server.shutdown_timeout (%v)", grace, cfg.Server.ShutdownTimeout)
	}

	kust, _ := objs["Kustomization"].get("resources").([]any)
	for _, r := range kust {
		if _, err := os.Stat(filepath.Join("k8s", r.(string))); err != nil {
			t.Errorf("kustomization: %v", err)
		}
	}
}

// TestDockerfile checks that the image builds the gateway statically and
// runs it as a non-root user on a static base.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	for _, want := range []string{"CGO_ENABLED=0", "./cmd/gateway", "FROM gcr.io/distroless/static", "USER nonroot", "EXPOSE 4000 9090", `ENTRYPOINT ["/gateway"]`,
		// The image has no .git: its version is stamped (pkg/fedgate/version.go).
		"-X github.com/fedgate/gateway/pkg/fedgate.linkedVersion=${VERSION}"} {
		if !strings.Contains(d, want) {
			t.Errorf("Dockerfile lacks %s", want)
		}
	}
	if _, err := os.Stat("../cmd/gateway/main.go"); err != nil {
		t.Errorf("the Dockerfile builds ./cmd/gateway: %v", err)
	}
}
