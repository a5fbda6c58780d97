package conversation

import (
	"encoding/json"
	"reflect"
	"testing"
)

// decodeWire is the general decoding (wireEntry, as for client inputs),
// the reference Decode must agree with.
func decodeWire(t *testing.T, body []byte) Entry {
	var w wireEntry
	if err := json.Unmarshal(body, &w); err != nil {
		t.Fatal(err)
	}
	e := fromWire(&w)
	if w.Private != nil {
		e.ForModel = w.Private.ForModel
	}
	return e
}

// Decode reads every stored entry exactly as the general wire decoding
// does, including nulls, absent keys and arguments given as objects.
func TestDecodeMatchesWireDecoding(t *testing.T) {
	bodies := [][]byte{}
	for _, e := range benchEntries() {
		b, err := Encode(&e)
		if err != nil {
			t.Fatal(err)
		}
		bodies = append(bodies, b)
	}
	bodies = append(bodies,
		[]byte(`{"type":"function.call","id":"fc_1","created_at":null,"completed_at":null,"arguments":{"a":1},"name":null,"prefix":null}`),
		[]byte(`{"type":"message.input","id":"m","role":"user","content":[{"type":"text","text":"hi"}],"prefix":true,"_tramontane":null}`),
		[]byte(`{"type":"tool.execution","id":"t","info":null,"arguments":"","_tramontane":{"for_model":"x"}}`),
		[]byte(`{}`),
	)
	for _, b := range bodies {
		got, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if want := decodeWire(t, b); !reflect.DeepEqual(*got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", b, *got, want)
		}
	}
}
