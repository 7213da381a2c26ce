// SPDX-License-Identifier: GPL-2.0
//
// Package v1beta1: the kubelet's Device Plugin API, version v1beta1,
// written by hand from the published definition
// k8s.io/kubelet/pkg/apis/deviceplugin/v1beta1/api.proto (Kubernetes
// 1.28 and later: the cdi_devices field of ContainerAllocateResponse is
// KEP-4009, GA in 1.31).  No protoc is available where this is built
// (the Debian 13 test root, offline), so the messages are plain Go
// structs with the struct tags protoc-gen-go (APIv1) writes; grpc's
// proto codec accepts them through protobuf's legacy-message wrapping,
// which reads the field numbers from the tags.  The field numbers below
// are the published ones and must never change: they are the wire.
//
// Used by the device plugin (utils/k8s/plugin) and by the kubelet
// stand-in of the containers tier (tests/containers/cri/kubelet.go).
package v1beta1

import (
	"context"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/runtime/protoimpl"
)

// Constants of api.proto's package (constants.go upstream).
const (
	Version          = "v1beta1"
	DevicePluginPath = "/var/lib/kubelet/device-plugins/"
	KubeletSocket    = DevicePluginPath + "kubelet.sock"
	Healthy          = "Healthy"
	Unhealthy        = "Unhealthy"
)

func str(m any) string { return protoimpl.X.MessageStringOf(protoimpl.X.ProtoMessageV2Of(m)) }

// message DevicePluginOptions { bool pre_start_required = 1;
// bool get_preferred_allocation_available = 2; }
type DevicePluginOptions struct {
	PreStartRequired                bool `protobuf:"varint,1,opt,name=pre_start_required,json=preStartRequired,proto3"`
	GetPreferredAllocationAvailable bool `protobuf:"varint,2,opt,name=get_preferred_allocation_available,json=getPreferredAllocationAvailable,proto3"`
}

// message RegisterRequest { string version = 1; string endpoint = 2;
// string resource_name = 3; DevicePluginOptions options = 4; }
type RegisterRequest struct {
	Version      string               `protobuf:"bytes,1,opt,name=version,proto3"`
	Endpoint     string               `protobuf:"bytes,2,opt,name=endpoint,proto3"`
	ResourceName string               `protobuf:"bytes,3,opt,name=resource_name,json=resourceName,proto3"`
	Options      *DevicePluginOptions `protobuf:"bytes,4,opt,name=options,proto3"`
}

// message Empty {}
type Empty struct{}

// message ListAndWatchResponse { repeated Device devices = 1; }
type ListAndWatchResponse struct {
	Devices []*Device `protobuf:"bytes,1,rep,name=devices,proto3"`
}

// message TopologyInfo { repeated NUMANode nodes = 1; }
type TopologyInfo struct {
	Nodes []*NUMANode `protobuf:"bytes,1,rep,name=nodes,proto3"`
}

// message NUMANode { int64 ID = 1; }
type NUMANode struct {
	ID int64 `protobuf:"varint,1,opt,name=ID,proto3"`
}

// message Device { string ID = 1; string health = 2;
// TopologyInfo topology = 3; }
type Device struct {
	ID       string        `protobuf:"bytes,1,opt,name=ID,proto3"`
	Health   string        `protobuf:"bytes,2,opt,name=health,proto3"`
	Topology *TopologyInfo `protobuf:"bytes,3,opt,name=topology,proto3"`
}

// message PreStartContainerRequest { repeated string devices_ids = 1; }
type PreStartContainerRequest struct {
	DevicesIDs []string `protobuf:"bytes,1,rep,name=devices_ids,json=devicesIds,proto3"`
}

// message PreStartContainerResponse {}
type PreStartContainerResponse struct{}

// message PreferredAllocationRequest {
// repeated ContainerPreferredAllocationRequest container_requests = 1; }
type PreferredAllocationRequest struct {
	ContainerRequests []*ContainerPreferredAllocationRequest `protobuf:"bytes,1,rep,name=container_requests,json=containerRequests,proto3"`
}

// message ContainerPreferredAllocationRequest {
// repeated string available_deviceIDs = 1;
// repeated string must_include_deviceIDs = 2; int32 allocation_size = 3; }
type ContainerPreferredAllocationRequest struct {
	AvailableDeviceIDs   []string `protobuf:"bytes,1,rep,name=available_deviceIDs,json=availableDeviceIDs,proto3"`
	MustIncludeDeviceIDs []string `protobuf:"bytes,2,rep,name=must_include_deviceIDs,json=mustIncludeDeviceIDs,proto3"`
	AllocationSize       int32    `protobuf:"varint,3,opt,name=allocation_size,json=allocationSize,proto3"`
}

// message PreferredAllocationResponse {
// repeated ContainerPreferredAllocationResponse container_responses = 1; }
type PreferredAllocationResponse struct {
	ContainerResponses []*ContainerPreferredAllocationResponse `protobuf:"bytes,1,rep,name=container_responses,json=containerResponses,proto3"`
}

// message ContainerPreferredAllocationResponse { repeated string deviceIDs = 1; }
type ContainerPreferredAllocationResponse struct {
	DeviceIDs []string `protobuf:"bytes,1,rep,name=deviceIDs,proto3"`
}

// message AllocateRequest {
// repeated ContainerAllocateRequest container_requests = 1; }
type AllocateRequest struct {
	ContainerRequests []*ContainerAllocateRequest `protobuf:"bytes,1,rep,name=container_requests,json=containerRequests,proto3"`
}

// message ContainerAllocateRequest { repeated string devices_ids = 1; }
type ContainerAllocateRequest struct {
	DevicesIDs []string `protobuf:"bytes,1,rep,name=devices_ids,json=devicesIds,proto3"`
}

// message AllocateResponse {
// repeated ContainerAllocateResponse container_responses = 1; }
type AllocateResponse struct {
	ContainerResponses []*ContainerAllocateResponse `protobuf:"bytes,1,rep,name=container_responses,json=containerResponses,proto3"`
}

// message ContainerAllocateResponse { map<string, string> envs = 1;
// repeated Mount mounts = 2; repeated DeviceSpec devices = 3;
// map<string, string> annotations = 4; repeated CDIDevice cdi_devices = 5; }
type ContainerAllocateResponse struct {
	Envs        map[string]string `protobuf:"bytes,1,rep,name=envs,proto3" protobuf_key:"bytes,1,opt,name=key,proto3" protobuf_val:"bytes,2,opt,name=value,proto3"`
	Mounts      []*Mount          `protobuf:"bytes,2,rep,name=mounts,proto3"`
	Devices     []*DeviceSpec     `protobuf:"bytes,3,rep,name=devices,proto3"`
	Annotations map[string]string `protobuf:"bytes,4,rep,name=annotations,proto3" protobuf_key:"bytes,1,opt,name=key,proto3" protobuf_val:"bytes,2,opt,name=value,proto3"`
	CDIDevices  []*CDIDevice      `protobuf:"bytes,5,rep,name=cdi_devices,json=cdiDevices,proto3"`
}

// message CDIDevice { string name = 1; }
type CDIDevice struct {
	Name string `protobuf:"bytes,1,opt,name=name,proto3"`
}

// message Mount { string container_path = 1; string host_path = 2;
// bool read_only = 3; }
type Mount struct {
	ContainerPath string `protobuf:"bytes,1,opt,name=container_path,json=containerPath,proto3"`
	HostPath      string `protobuf:"bytes,2,opt,name=host_path,json=hostPath,proto3"`
	ReadOnly      bool   `protobuf:"varint,3,opt,name=read_only,json=readOnly,proto3"`
}

// message DeviceSpec { string container_path = 1; string host_path = 2;
// string permissions = 3; }
type DeviceSpec struct {
	ContainerPath string `protobuf:"bytes,1,opt,name=container_path,json=containerPath,proto3"`
	HostPath      string `protobuf:"bytes,2,opt,name=host_path,json=hostPath,proto3"`
	Permissions   string `protobuf:"bytes,3,opt,name=permissions,proto3"`
}

// The legacy v1 message methods.
func (m *DevicePluginOptions) Reset()                          { *m = DevicePluginOptions{} }
func (m *DevicePluginOptions) String() string                  { return str(m) }
func (*DevicePluginOptions) ProtoMessage()                     {}
func (m *RegisterRequest) Reset()                              { *m = RegisterRequest{} }
func (m *RegisterRequest) String() string                      { return str(m) }
func (*RegisterRequest) ProtoMessage()                         {}
func (m *Empty) Reset()                                        { *m = Empty{} }
func (m *Empty) String() string                                { return str(m) }
func (*Empty) ProtoMessage()                                   {}
func (m *ListAndWatchResponse) Reset()                         { *m = ListAndWatchResponse{} }
func (m *ListAndWatchResponse) String() string                 { return str(m) }
func (*ListAndWatchResponse) ProtoMessage()                    {}
func (m *TopologyInfo) Reset()                                 { *m = TopologyInfo{} }
func (m *TopologyInfo) String() string                         { return str(m) }
func (*TopologyInfo) ProtoMessage()                            {}
func (m *NUMANode) Reset()                                     { *m = NUMANode{} }
func (m *NUMANode) String() string                             { return str(m) }
func (*NUMANode) ProtoMessage()                                {}
func (m *Device) Reset()                                       { *m = Device{} }
func (m *Device) String() string                               { return str(m) }
func (*Device) ProtoMessage()                                  {}
func (m *PreStartContainerRequest) Reset()                     { *m = PreStartContainerRequest{} }
func (m *PreStartContainerRequest) String() string             { return str(m) }
func (*PreStartContainerRequest) ProtoMessage()                {}
func (m *PreStartContainerResponse) Reset()                    { *m = PreStartContainerResponse{} }
func (m *PreStartContainerResponse) String() string            { return str(m) }
func (*PreStartContainerResponse) ProtoMessage()               {}
func (m *PreferredAllocationRequest) Reset()                   { *m = PreferredAllocationRequest{} }
func (m *PreferredAllocationRequest) String() string           { return str(m) }
func (*PreferredAllocationRequest) ProtoMessage()              {}
func (m *ContainerPreferredAllocationRequest) Reset()          { *m = ContainerPreferredAllocationRequest{} }
func (m *ContainerPreferredAllocationRequest) String() string  { return str(m) }
func (*ContainerPreferredAllocationRequest) ProtoMessage()     {}
func (m *PreferredAllocationResponse) Reset()                  { *m = PreferredAllocationResponse{} }
func (m *PreferredAllocationResponse) String() string          { return str(m) }
func (*PreferredAllocationResponse) ProtoMessage()             {}
func (m *ContainerPreferredAllocationResponse) Reset()         { *m = ContainerPreferredAllocationResponse{} }
func (m *ContainerPreferredAllocationResponse) String() string { return str(m) }
func (*ContainerPreferredAllocationResponse) ProtoMessage()    {}
func (m *AllocateRequest) Reset()                              { *m = AllocateRequest{} }
func (m *AllocateRequest) String() string                      { return str(m) }
func (*AllocateRequest) ProtoMessage()                         {}
func (m *ContainerAllocateRequest) Reset()                     { *m = ContainerAllocateRequest{} }
func (m *ContainerAllocateRequest) String() string             { return str(m) }
func (*ContainerAllocateRequest) ProtoMessage()                {}
func (m *AllocateResponse) Reset()                             { *m = AllocateResponse{} }
func (m *AllocateResponse) String() string                     { return str(m) }
func (*AllocateResponse) ProtoMessage()                        {}
func (m *ContainerAllocateResponse) Reset()                    { *m = ContainerAllocateResponse{} }
func (m *ContainerAllocateResponse) String() string            { return str(m) }
func (*ContainerAllocateResponse) ProtoMessage()               {}
func (m *CDIDevice) Reset()                                    { *m = CDIDevice{} }
func (m *CDIDevice) String() string                            { return str(m) }
func (*CDIDevice) ProtoMessage()                               {}
func (m *Mount) Reset()                                        { *m = Mount{} }
func (m *Mount) String() string                                { return str(m) }
func (*Mount) ProtoMessage()                                   {}
func (m *DeviceSpec) Reset()                                   { *m = DeviceSpec{} }
func (m *DeviceSpec) String() string                           { return str(m) }
func (*DeviceSpec) ProtoMessage()                              {}

// RegistrationServer: service Registration { rpc Register(RegisterRequest)
// returns (Empty) {} } (the kubelet's side; the stand-in implements it).
type RegistrationServer interface {
	Register(context.Context, *RegisterRequest) (*Empty, error)
}

// Registration_ServiceDesc: full name v1beta1.Registration, as api.proto's
// "package v1beta1;" makes it.
var Registration_ServiceDesc = grpc.ServiceDesc{
	ServiceName: "v1beta1.Registration",
	HandlerType: (*RegistrationServer)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Register",
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(RegisterRequest)
			if err := dec(in); err != nil {
				return nil, err
			}
			return srv.(RegistrationServer).Register(ctx, in)
		},
	}},
	Metadata: "api.proto",
}

// Register calls Registration.Register on the kubelet's socket.
func Register(ctx context.Context, cc grpc.ClientConnInterface, in *RegisterRequest) error {
	return cc.Invoke(ctx, "/v1beta1.Registration/Register", in, new(Empty))
}

// DevicePluginServer: service DevicePlugin (the plugin's side).
type DevicePluginServer interface {
	GetDevicePluginOptions(context.Context, *Empty) (*DevicePluginOptions, error)
	ListAndWatch(*Empty, grpc.ServerStream) error
	GetPreferredAllocation(context.Context, *PreferredAllocationRequest) (*PreferredAllocationResponse, error)
	Allocate(context.Context, *AllocateRequest) (*AllocateResponse, error)
	PreStartContainer(context.Context, *PreStartContainerRequest) (*PreStartContainerResponse, error)
}

// unary makes a MethodDesc handler for a method of DevicePluginServer.
func unary[Req any, Resp any](name string, call func(DevicePluginServer, context.Context, *Req) (*Resp, error)) grpc.MethodDesc {
	return grpc.MethodDesc{
		MethodName: name,
		Handler: func(srv any, ctx context.Context, dec func(any) error, _ grpc.UnaryServerInterceptor) (any, error) {
			in := new(Req)
			if err := dec(in); err != nil {
				return nil, err
			}
			return call(srv.(DevicePluginServer), ctx, in)
		},
	}
}

// DevicePlugin_ServiceDesc: full name v1beta1.DevicePlugin.
var DevicePlugin_ServiceDesc = grpc.ServiceDesc{
	ServiceName: "v1beta1.DevicePlugin",
	HandlerType: (*DevicePluginServer)(nil),
	Methods: []grpc.MethodDesc{
		unary("GetDevicePluginOptions", DevicePluginServer.GetDevicePluginOptions),
		unary("GetPreferredAllocation", DevicePluginServer.GetPreferredAllocation),
		unary("Allocate", DevicePluginServer.Allocate),
		unary("PreStartContainer", DevicePluginServer.PreStartContainer),
	},
	Streams: []grpc.StreamDesc{{
		StreamName: "ListAndWatch",
		Handler: func(srv any, stream grpc.ServerStream) error {
			in := new(Empty)
			if err := stream.RecvMsg(in); err != nil {
				return err
			}
			return srv.(DevicePluginServer).ListAndWatch(in, stream)
		},
		ServerStreams: true,
	}},
	Metadata: "api.proto",
}

// DevicePluginClient: the kubelet's calls on a plugin's socket.
type DevicePluginClient struct{ CC grpc.ClientConnInterface }

func (c DevicePluginClient) GetDevicePluginOptions(ctx context.Context) (*DevicePluginOptions, error) {
	out := new(DevicePluginOptions)
	return out, c.CC.Invoke(ctx, "/v1beta1.DevicePlugin/GetDevicePluginOptions", new(Empty), out)
}

func (c DevicePluginClient) GetPreferredAllocation(ctx context.Context, in *PreferredAllocationRequest) (*PreferredAllocationResponse, error) {
	out := new(PreferredAllocationResponse)
	return out, c.CC.Invoke(ctx, "/v1beta1.DevicePlugin/GetPreferredAllocation", in, out)
}

func (c DevicePluginClient) Allocate(ctx context.Context, in *AllocateRequest) (*AllocateResponse, error) {
	out := new(AllocateResponse)
	return out, c.CC.Invoke(ctx, "/v1beta1.DevicePlugin/Allocate", in, out)
}

// ListAndWatch opens the stream; Recv each update with RecvMsg.
func (c DevicePluginClient) ListAndWatch(ctx context.Context) (grpc.ClientStream, error) {
	st, err := c.CC.NewStream(ctx, &DevicePlugin_ServiceDesc.Streams[0], "/v1beta1.DevicePlugin/ListAndWatch")
	if err != nil {
		return nil, err
	}
	if err := st.SendMsg(new(Empty)); err != nil {
		return nil, err
	}
	return st, st.CloseSend()
}
