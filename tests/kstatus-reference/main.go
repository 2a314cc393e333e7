// kstatus-reference: the reference verdicts for kapply's differential kstatus test
// (tests/kstatus_reference.rs). It reads a JSON array of Kubernetes objects on stdin and prints a JSON
// array with, for each object in the same order, what cli-utils' status.Compute says about it.
//
// Each object is decoded as client-go's dynamic client decodes what an API server sends
// (unstructured.Unstructured's JSON decoding: integers as int64, other numbers as float64), so the
// verdicts are the ones kpt, Config Sync and cli-utils' kapply would show for that object.
//
// Output item: {"status", "message", "reason", "conditions", "error", "panic"}; "error" is set when
// decoding or Compute failed, "panic" when Compute panicked (recovered, so one object cannot hide the
// verdicts on the others). Test-only: built by scripts/kstatus-reference, never shipped.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

type condition struct {
	Type    string `json:"type"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

type verdict struct {
	Status     string      `json:"status,omitempty"`
	Message    string      `json:"message"`
	Reason     string      `json:"reason"`
	Conditions []condition `json:"conditions"`
	Error      string      `json:"error,omitempty"`
	Panic      string      `json:"panic,omitempty"`
}

func compute(raw json.RawMessage) (v verdict) {
	v.Conditions = []condition{}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		v.Error = "decode: " + err.Error()
		return v
	}
	defer func() {
		if r := recover(); r != nil {
			v.Panic = fmt.Sprint(r)
		}
	}()
	res, err := status.Compute(u)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.Status = string(res.Status)
	v.Message = res.Message
	for _, c := range res.Conditions {
		v.Conditions = append(v.Conditions, condition{string(c.Type), string(c.Status), c.Reason, c.Message})
	}
	if len(res.Conditions) > 0 {
		v.Reason = res.Conditions[0].Reason
	}
	return v
}

func main() {
	input, err := io.ReadAll(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-reference: reading stdin:", err)
		os.Exit(2)
	}
	var objects []json.RawMessage
	if err := json.Unmarshal(input, &objects); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-reference: stdin is not a JSON array:", err)
		os.Exit(2)
	}
	verdicts := make([]verdict, 0, len(objects))
	for _, raw := range objects {
		verdicts = append(verdicts, compute(raw))
	}
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	if err := enc.Encode(verdicts); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-reference: writing stdout:", err)
		os.Exit(2)
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "kstatus-reference: writing stdout:", err)
		os.Exit(2)
	}
}
