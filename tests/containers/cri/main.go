// SPDX-License-Identifier: GPL-2.0
//
// gdl-cri: the containers tier's stand-in for the kubelet and for the
// docker command (test code, never shipped).  It drives containerd's CRI
// plugin over its socket the way the kubelet does, so the OCI hook and
// the CDI spec meet the same RunPodSandbox / CreateContainer /
// StartContainer calls as on a node:
//
//	gdl-cri cri -s SOCK up NAME [-a K=V]... [-c K=V]... [-e K=V]... [-d CDI]...
//	        [-privileged] [-logs DIR] [-image REF] -- COMMAND...
//	    runs a pod (host network, cgroupfs parent /kubepods/besteffort/
//	    pod<uid>, annotations -a) with one container (its annotations -c,
//	    environment -e, CDI devices -d in the CRI CDIDevices field) and
//	    prints "POD CONTAINER"; on any error it removes the pod again,
//	    prints the error and exits 1.
//	gdl-cri cri -s SOCK exec CONTAINER -- COMMAND...   ExecSync: its output
//	gdl-cri cri -s SOCK down POD   StopPodSandbox, RemovePodSandbox
//	gdl-cri cri -s SOCK pods       the ids of the pods there are
//
// and, for Docker, the Engine API calls of docker.go, and the kubelet's
// device manager and scheduler count of kubelet.go:
//
//	gdl-cri kubelet -s SOCK DIR RESOURCE   (commands on stdin)
//
// Built in the Debian 13 test root against its packaged Go modules
// (tests/containers/Makefile); run in the guest (guest-engines.sh).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	cri "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// kv collects repeated K=V flags.
type kv map[string]string

func (m kv) String() string { return fmt.Sprint(map[string]string(m)) }
func (m kv) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok {
		return fmt.Errorf("%q is not K=V", s)
	}
	m[k] = v
	return nil
}

// list collects repeated flags.
type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

func die(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "gdl-cri: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 2 || (os.Args[1] != "cri" && os.Args[1] != "docker" && os.Args[1] != "kubelet") {
		die("usage: gdl-cri cri|docker|kubelet -s SOCK COMMAND ...")
	}
	flag.CommandLine.Init("gdl-cri "+os.Args[1], flag.ExitOnError)
	sock := flag.String("s", "", "the daemon's socket")
	flag.CommandLine.Parse(os.Args[2:])
	if *sock == "" || flag.NArg() < 1 {
		die("usage: gdl-cri %s -s SOCK COMMAND ...", os.Args[1])
	}
	if os.Args[1] == "docker" {
		dockerMain(*sock, flag.Args())
		return
	}
	if os.Args[1] == "kubelet" {
		kubeletMain(*sock, flag.Args())
		return
	}
	if flag.NArg() < 2 && flag.Arg(0) != "pods" {
		die("usage: gdl-cri cri -s SOCK up|exec|down|pods ...")
	}
	conn, err := grpc.NewClient("unix://"+*sock,
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		die("%v", err)
	}
	defer conn.Close()
	rt := cri.NewRuntimeServiceClient(conn)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()

	args := flag.Args()
	switch args[0] {
	case "up":
		up(ctx, rt, args[1:])
	case "exec":
		if len(args) < 3 {
			die("usage: exec CONTAINER -- COMMAND...")
		}
		cmd := args[2:]
		if cmd[0] == "--" {
			cmd = cmd[1:]
		}
		r, err := rt.ExecSync(ctx, &cri.ExecSyncRequest{ContainerId: args[1], Cmd: cmd, Timeout: 60})
		if err != nil {
			die("ExecSync: %v", err)
		}
		os.Stdout.Write(r.Stdout)
		os.Stderr.Write(r.Stderr)
		os.Exit(int(r.ExitCode))
	case "down":
		down(ctx, rt, args[1])
	case "pods":
		r, err := rt.ListPodSandbox(ctx, &cri.ListPodSandboxRequest{})
		if err != nil {
			die("ListPodSandbox: %v", err)
		}
		for _, p := range r.Items {
			fmt.Println(p.Id)
		}
	default:
		die("unknown command %q", args[0])
	}
}

// podSpec is what up, and the kubelet stand-in, ask the CRI for.
type podSpec struct {
	name           string
	podAnn, ctrAnn kv
	env            kv
	cdi            []string
	priv           bool
	logs, image    string
	cmd            []string
}

func up(ctx context.Context, rt cri.RuntimeServiceClient, args []string) {
	fs := flag.NewFlagSet("up", flag.ExitOnError)
	p := podSpec{podAnn: kv{}, ctrAnn: kv{}, env: kv{}}
	var cdi list
	fs.Var(p.podAnn, "a", "pod annotation K=V")
	fs.Var(p.ctrAnn, "c", "container annotation K=V")
	fs.Var(p.env, "e", "environment K=V")
	fs.Var(&cdi, "d", "CDI device (CRI CDIDevices)")
	fs.BoolVar(&p.priv, "privileged", false, "a privileged pod and container")
	fs.StringVar(&p.logs, "logs", "/tmp/gdl-cri-logs", "pod log directory")
	fs.StringVar(&p.image, "image", "docker.io/library/gdltest:latest", "the container's image")
	if len(args) < 1 {
		die("usage: up NAME [flags] -- COMMAND...")
	}
	p.name = args[0]
	fs.Parse(args[1:])
	if fs.NArg() < 1 {
		die("up: no command")
	}
	p.cdi, p.cmd = cdi, fs.Args()
	pod, ctr, err := runPod(ctx, rt, &p)
	if err != nil {
		die("%v", err)
	}
	fmt.Println(pod, ctr)
}

// runPod: RunPodSandbox, CreateContainer, StartContainer, as the kubelet
// calls them; on an error the pod is removed again.
func runPod(ctx context.Context, rt cri.RuntimeServiceClient, p *podSpec) (string, string, error) {
	uid := "uid-" + p.name
	// Host network, so no CNI; like the kubelet, no Hostname then (runc
	// refuses one without a private UTS namespace).
	host := &cri.NamespaceOption{Network: cri.NamespaceMode_NODE}
	pod := &cri.PodSandboxConfig{
		Metadata:     &cri.PodSandboxMetadata{Name: p.name, Uid: uid, Namespace: "default"},
		LogDirectory: p.logs + "/" + p.name,
		Annotations:  p.podAnn,
		Linux: &cri.LinuxPodSandboxConfig{
			// The kubelet's cgroupfs layout for a BestEffort pod.
			CgroupParent: "/kubepods/besteffort/pod" + uid,
			SecurityContext: &cri.LinuxSandboxSecurityContext{
				NamespaceOptions: host, Privileged: p.priv,
			},
		},
	}
	if err := os.MkdirAll(pod.LogDirectory, 0o755); err != nil {
		return "", "", err
	}
	ps, err := rt.RunPodSandbox(ctx, &cri.RunPodSandboxRequest{Config: pod})
	if err != nil {
		return "", "", fmt.Errorf("RunPodSandbox: %v", err)
	}
	var envs []*cri.KeyValue
	for k, v := range p.env {
		envs = append(envs, &cri.KeyValue{Key: k, Value: v})
	}
	var devs []*cri.CDIDevice
	for _, d := range p.cdi {
		devs = append(devs, &cri.CDIDevice{Name: d})
	}
	ctr := &cri.ContainerConfig{
		Metadata:    &cri.ContainerMetadata{Name: "main"},
		Image:       &cri.ImageSpec{Image: p.image},
		Command:     p.cmd,
		Envs:        envs,
		Annotations: p.ctrAnn,
		CDIDevices:  devs,
		LogPath:     "main.log",
		Linux: &cri.LinuxContainerConfig{
			SecurityContext: &cri.LinuxContainerSecurityContext{
				NamespaceOptions: host, Privileged: p.priv,
			},
		},
	}
	c, err := rt.CreateContainer(ctx, &cri.CreateContainerRequest{
		PodSandboxId: ps.PodSandboxId, Config: ctr, SandboxConfig: pod})
	if err == nil {
		_, err = rt.StartContainer(ctx, &cri.StartContainerRequest{ContainerId: c.ContainerId})
	}
	if err != nil {
		rt.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: ps.PodSandboxId})
		rt.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: ps.PodSandboxId})
		return "", "", err
	}
	return ps.PodSandboxId, c.ContainerId, nil
}

func down(ctx context.Context, rt cri.RuntimeServiceClient, pod string) {
	if _, err := rt.StopPodSandbox(ctx, &cri.StopPodSandboxRequest{PodSandboxId: pod}); err != nil {
		die("StopPodSandbox: %v", err)
	}
	if _, err := rt.RemovePodSandbox(ctx, &cri.RemovePodSandboxRequest{PodSandboxId: pod}); err != nil {
		die("RemovePodSandbox: %v", err)
	}
}
