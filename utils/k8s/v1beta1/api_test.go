// SPDX-License-Identifier: GPL-2.0
//
// The wire format against the published field numbers, byte by byte:
// the stand-in shares these definitions with the plugin, so a wrong
// number common to both would not show in the containers tier.
package v1beta1

import (
	"bytes"
	"reflect"
	"testing"

	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/proto"
)

func TestWire(t *testing.T) {
	codec := encoding.GetCodec("proto")
	cases := []struct {
		name string
		msg  any
		want []byte
	}{
		// RegisterRequest: version=1, endpoint=2, resource_name=3, options=4
		// (DevicePluginOptions: get_preferred_allocation_available=2).
		// Both options set: protobuf's legacy path writes a proto3 scalar
		// that is zero as well (08 00), which proto3 readers take as the
		// default, so the cases set every scalar.
		{"RegisterRequest", &RegisterRequest{Version: "v", Endpoint: "e", ResourceName: "r",
			Options: &DevicePluginOptions{PreStartRequired: true, GetPreferredAllocationAvailable: true}},
			[]byte{0x0a, 1, 'v', 0x12, 1, 'e', 0x1a, 1, 'r', 0x22, 4, 0x08, 1, 0x10, 1}},
		// Device: ID=1, health=2 inside ListAndWatchResponse.devices=1.
		{"ListAndWatchResponse", &ListAndWatchResponse{Devices: []*Device{{ID: "a", Health: "H"}}},
			[]byte{0x0a, 6, 0x0a, 1, 'a', 0x12, 1, 'H'}},
		// ContainerPreferredAllocationRequest: available=1, must=2, size=3.
		{"PreferredAllocationRequest", &PreferredAllocationRequest{ContainerRequests: []*ContainerPreferredAllocationRequest{
			{AvailableDeviceIDs: []string{"a"}, MustIncludeDeviceIDs: []string{"b"}, AllocationSize: 2}}},
			[]byte{0x0a, 8, 0x0a, 1, 'a', 0x12, 1, 'b', 0x18, 2}},
		{"PreferredAllocationResponse", &PreferredAllocationResponse{ContainerResponses: []*ContainerPreferredAllocationResponse{
			{DeviceIDs: []string{"a"}}}}, []byte{0x0a, 3, 0x0a, 1, 'a'}},
		{"AllocateRequest", &AllocateRequest{ContainerRequests: []*ContainerAllocateRequest{{DevicesIDs: []string{"a"}}}},
			[]byte{0x0a, 3, 0x0a, 1, 'a'}},
		// ContainerAllocateResponse: envs=1 (map entry key=1 value=2),
		// mounts=2, devices=3, annotations=4, cdi_devices=5.
		{"ContainerAllocateResponse", &ContainerAllocateResponse{
			Envs:        map[string]string{"k": "v"},
			Mounts:      []*Mount{{ContainerPath: "c", HostPath: "h", ReadOnly: true}},
			Devices:     []*DeviceSpec{{ContainerPath: "c", HostPath: "h", Permissions: "r"}},
			Annotations: map[string]string{"a": "b"},
			CDIDevices:  []*CDIDevice{{Name: "n"}}},
			[]byte{0x0a, 6, 0x0a, 1, 'k', 0x12, 1, 'v',
				0x12, 8, 0x0a, 1, 'c', 0x12, 1, 'h', 0x18, 1,
				0x1a, 9, 0x0a, 1, 'c', 0x12, 1, 'h', 0x1a, 1, 'r',
				0x22, 6, 0x0a, 1, 'a', 0x12, 1, 'b',
				0x2a, 3, 0x0a, 1, 'n'}},
	}
	for _, c := range cases {
		got, err := codec.Marshal(c.msg)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%s: % x, want % x", c.name, got, c.want)
		}
		// And back: the published bytes read into the same message.
		back := reflect.New(reflect.TypeOf(c.msg).Elem()).Interface()
		if err := codec.Unmarshal(c.want, back); err != nil || !reflect.DeepEqual(back, c.msg) {
			t.Errorf("%s: read back %v (%v)", c.name, back, err)
		}
	}
}
