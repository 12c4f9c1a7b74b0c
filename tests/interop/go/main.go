// Command verify checks the ledger's signed checkpoints and proofs with Go's own
// implementations: golang.org/x/mod/sumdb/note for the C2SP signed note (plus a
// cosignature/v1 verifier written against the C2SP text), and
// github.com/transparency-dev/merkle for RFC 9162 inclusion and consistency proofs.
//
// Input (JSON on stdin): {"vkey", "witness_vkeys", "note", "inclusion": [...], "consistency": [...]}.
// Output: one line per check; exit 1 when any check fails.
package main

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"golang.org/x/mod/sumdb/note"
)

type inclusion struct {
	LeafHash string   `json:"leaf_hash"`
	Index    uint64   `json:"index"`
	Size     uint64   `json:"size"`
	Proof    []string `json:"proof"`
	Root     string   `json:"root"`
}

type consistency struct {
	Size1 uint64   `json:"size1"`
	Size2 uint64   `json:"size2"`
	Proof []string `json:"proof"`
	Root1 string   `json:"root1"`
	Root2 string   `json:"root2"`
}

type input struct {
	VKey         string        `json:"vkey"`
	WitnessVKeys []string      `json:"witness_vkeys"`
	Note         string        `json:"note"`
	Inclusion    []inclusion   `json:"inclusion"`
	Consistency  []consistency `json:"consistency"`
}

// cosigner verifies C2SP tlog-cosignature cosignature/v1 (Ed25519, alg 0x04) signatures.
type cosigner struct {
	name string
	hash uint32
	key  ed25519.PublicKey
}

func (c *cosigner) Name() string    { return c.name }
func (c *cosigner) KeyHash() uint32 { return c.hash }
func (c *cosigner) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	m := append([]byte("cosignature/v1\ntime "+strconv.FormatUint(t, 10)+"\n"), msg...)
	return ed25519.Verify(c.key, m, sig[8:])
}

func newCosigner(vkey string) (*cosigner, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) != 3 {
		return nil, fmt.Errorf("malformed vkey %q", vkey)
	}
	raw, err := base64.StdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) != 33 || raw[0] != 0x04 {
		return nil, fmt.Errorf("not a cosignature/v1 vkey: %q", vkey)
	}
	h := sha256.Sum256(append([]byte(parts[0]+"\n"), raw...))
	id := binary.BigEndian.Uint32(h[:4])
	if fmt.Sprintf("%08x", id) != parts[1] {
		return nil, fmt.Errorf("key id mismatch in %q", vkey)
	}
	return &cosigner{name: parts[0], hash: id, key: ed25519.PublicKey(raw[1:])}, nil
}

func decode(hashes []string) [][]byte {
	out := make([][]byte, len(hashes))
	for i, h := range hashes {
		b, err := base64.StdEncoding.DecodeString(h)
		if err != nil {
			fail("bad base64 %q", h)
		}
		out[i] = b
	}
	return out
}

func one(h string) []byte { return decode([]string{h})[0] }

var failed bool

func fail(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	failed = true
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fmt.Println("FAIL input:", err)
		os.Exit(2)
	}
	if in.Note != "" {
		verifiers := []note.Verifier{}
		v, err := note.NewVerifier(in.VKey)
		if err != nil {
			fail("vkey: %v", err)
		} else {
			verifiers = append(verifiers, v)
		}
		for _, w := range in.WitnessVKeys {
			c, err := newCosigner(w)
			if err != nil {
				fail("witness vkey: %v", err)
				continue
			}
			verifiers = append(verifiers, c)
		}
		n, err := note.Open([]byte(in.Note), note.VerifierList(verifiers...))
		if err != nil {
			fail("note: %v", err)
		} else {
			names := []string{}
			for _, s := range n.Sigs {
				names = append(names, s.Name)
			}
			fmt.Printf("ok note signed by %s; %d unverified\n", strings.Join(names, ","), len(n.UnverifiedSigs))
		}
	}
	hasher := rfc6962.DefaultHasher
	for _, c := range in.Inclusion {
		if err := proof.VerifyInclusion(hasher, c.Index, c.Size, one(c.LeafHash), decode(c.Proof), one(c.Root)); err != nil {
			fail("inclusion %d/%d: %v", c.Index, c.Size, err)
		}
	}
	for _, c := range in.Consistency {
		if err := proof.VerifyConsistency(hasher, c.Size1, c.Size2, decode(c.Proof), one(c.Root1), one(c.Root2)); err != nil {
			fail("consistency %d->%d: %v", c.Size1, c.Size2, err)
		}
	}
	fmt.Printf("checked %d inclusion and %d consistency proofs\n", len(in.Inclusion), len(in.Consistency))
	if failed {
		os.Exit(1)
	}
}
