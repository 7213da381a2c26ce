// SPDX-License-Identifier: GPL-2.0
//
// The Docker half of gdl-cri: Debian 13's docker.io ships dockerd without
// its command line client (that is the docker-cli package), so the tier
// speaks the Engine API that `docker` itself speaks, over dockerd's
// socket.  `docker run --device VENDOR/CLASS=NAME` is a create request
// with HostConfig.DeviceRequests [{Driver: "cdi", DeviceIDs: [NAME]}],
// `--annotation` is HostConfig.Annotations.
//
//	gdl-cri docker -s SOCK load IMAGE.tar
//	gdl-cri docker -s SOCK run [-a K=V]... [-e K=V]... [-d CDI]...
//	        [-privileged] [-image REF] -- COMMAND...
//	    creates and starts a container (network none) and prints its id;
//	    when the start fails it removes it, prints the daemon's message
//	    and exits 1.
//	gdl-cri docker -s SOCK logs ID     its stdout and stderr so far
//	gdl-cri docker -s SOCK exec ID -- COMMAND...   output; its exit status
//	gdl-cri docker -s SOCK rm ID       docker rm -f
//	gdl-cri docker -s SOCK ps          the ids of the running containers
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
)

type engine struct{ c *http.Client }

func newEngine(sock string) *engine {
	return &engine{&http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}}
}

// call sends a request and decodes a JSON answer into out (when not nil);
// an error status becomes the daemon's message.
func (e *engine) call(method, path string, in any, body io.Reader, out any) (*http.Response, error) {
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, "http://docker"+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if path == "/images/load" {
		req.Header.Set("Content-Type", "application/x-tar")
	}
	r, err := e.c.Do(req)
	if err != nil {
		return nil, err
	}
	if r.StatusCode >= 300 {
		defer r.Body.Close()
		var m struct{ Message string }
		b, _ := io.ReadAll(r.Body)
		if json.Unmarshal(b, &m) != nil || m.Message == "" {
			m.Message = strings.TrimSpace(string(b))
		}
		return nil, fmt.Errorf("%s %s: %s", method, path, m.Message)
	}
	if out != nil {
		defer r.Body.Close()
		return r, json.NewDecoder(r.Body).Decode(out)
	}
	return r, nil
}

// demux copies a non-TTY attach stream (8-byte frame headers: stream,
// 0, 0, 0, big-endian length) to stdout and stderr.
func demux(r io.Reader) {
	var h [8]byte
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return
		}
		w := os.Stdout
		if h[0] == 2 {
			w = os.Stderr
		}
		if _, err := io.CopyN(w, r, int64(binary.BigEndian.Uint32(h[4:]))); err != nil {
			return
		}
	}
}

func dockerMain(sock string, args []string) {
	e := newEngine(sock)
	need := func(n int, usage string) {
		if len(args) < n {
			die("usage: docker %s", usage)
		}
	}
	need(1, "load|run|logs|exec|rm|ps ...")
	switch args[0] {
	case "load":
		need(2, "load IMAGE.tar")
		f, err := os.Open(args[1])
		if err != nil {
			die("%v", err)
		}
		r, err := e.call("POST", "/images/load?quiet=1", nil, f, nil)
		if err != nil {
			die("%v", err)
		}
		// A stream of JSON messages; a failure is one with "error",
		// after the 200 status.
		for d := json.NewDecoder(r.Body); ; {
			var m struct{ Stream, Error string }
			if err := d.Decode(&m); err == io.EOF {
				break
			} else if err != nil {
				die("load: %v", err)
			} else if m.Error != "" {
				die("load: %s", m.Error)
			}
			fmt.Print(m.Stream)
		}
		r.Body.Close()
	case "run":
		dockerRun(e, args[1:])
	case "logs":
		need(2, "logs ID")
		r, err := e.call("GET", "/containers/"+args[1]+"/logs?stdout=1&stderr=1", nil, nil, nil)
		if err != nil {
			die("%v", err)
		}
		demux(r.Body)
		r.Body.Close()
	case "exec":
		need(3, "exec ID -- COMMAND...")
		cmd := args[2:]
		if cmd[0] == "--" {
			cmd = cmd[1:]
		}
		var x struct{ Id string }
		if _, err := e.call("POST", "/containers/"+args[1]+"/exec", map[string]any{
			"Cmd": cmd, "AttachStdout": true, "AttachStderr": true}, nil, &x); err != nil {
			die("%v", err)
		}
		r, err := e.call("POST", "/exec/"+x.Id+"/start", map[string]any{"Detach": false, "Tty": false}, nil, nil)
		if err != nil {
			die("%v", err)
		}
		demux(r.Body)
		r.Body.Close()
		var st struct{ ExitCode int }
		if _, err := e.call("GET", "/exec/"+x.Id+"/json", nil, nil, &st); err != nil {
			die("%v", err)
		}
		os.Exit(st.ExitCode)
	case "rm":
		need(2, "rm ID")
		if _, err := e.call("DELETE", "/containers/"+args[1]+"?force=1", nil, nil, nil); err != nil {
			die("%v", err)
		}
	case "ps":
		var l []struct{ Id string }
		if _, err := e.call("GET", "/containers/json", nil, nil, &l); err != nil {
			die("%v", err)
		}
		for _, c := range l {
			fmt.Println(c.Id)
		}
	default:
		die("unknown docker command %q", args[0])
	}
}

func dockerRun(e *engine, args []string) {
	fs := flag.NewFlagSet("run", flag.ExitOnError)
	ann, env := kv{}, kv{}
	var cdi list
	fs.Var(ann, "a", "annotation K=V (docker run --annotation)")
	fs.Var(env, "e", "environment K=V")
	fs.Var(&cdi, "d", "CDI device (docker run --device VENDOR/CLASS=NAME)")
	priv := fs.Bool("privileged", false, "docker run --privileged")
	image := fs.String("image", "gdltest:latest", "the container's image")
	fs.Parse(args)
	if fs.NArg() < 1 {
		die("run: no command")
	}
	var envs []string
	for k, v := range env {
		envs = append(envs, k+"="+v)
	}
	host := map[string]any{"NetworkMode": "none", "Privileged": *priv, "Annotations": ann}
	if len(cdi) > 0 {
		host["DeviceRequests"] = []map[string]any{{"Driver": "cdi", "DeviceIDs": cdi}}
	}
	var c struct{ Id string }
	if _, err := e.call("POST", "/containers/create", map[string]any{
		"Image": *image, "Cmd": fs.Args(), "Env": envs, "HostConfig": host}, nil, &c); err != nil {
		die("%v", err)
	}
	if r, err := e.call("POST", "/containers/"+c.Id+"/start", nil, nil, nil); err != nil {
		e.call("DELETE", "/containers/"+c.Id+"?force=1", nil, nil, nil)
		die("%v", err)
	} else {
		r.Body.Close()
	}
	fmt.Println(c.Id)
}
