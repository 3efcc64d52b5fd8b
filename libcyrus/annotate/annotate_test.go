package annotate

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/cyrusgo/cyrusgo/libcyrus/cyrusdb"
)

// dump lists every value as "scope user entry=value", scope S or the
// mailbox id, sorted, so a table can say what the database must hold.
func dump(t *testing.T, db cyrusdb.DB) string {
	t.Helper()
	var out []string
	db.Scan(nil, func(k, v []byte) error {
		parts := strings.SplitN(string(k), "\x00", 3)
		scope := parts[0]
		if scope != "S" {
			scope = strings.TrimPrefix(scope, "M")
		}
		out = append(out, fmt.Sprintf("%s %s %s=%s", scope, parts[1], parts[2], v))
		return nil
	})
	sort.Strings(out)
	return strings.Join(out, "; ")
}

func seed(t *testing.T) (*DB, cyrusdb.DB) {
	t.Helper()
	mem := cyrusdb.NewMem()
	d := New(mem)
	err := d.Apply([]Change{
		{Mailbox: "m1", Entry: "/comment", Value: []byte("shared1")},
		{Mailbox: "m1", UserID: "alice", Entry: "/comment", Value: []byte("alice1")},
		{Mailbox: "m1", UserID: "bob", Entry: "/comment", Value: []byte("bob1")},
		{Mailbox: "m2", Entry: "/comment", Value: []byte("shared2")},
		{Mailbox: "m2", UserID: "alice", Entry: "/vendor/x/y", Value: []byte("alice2")},
		{Mailbox: Server, Entry: "/comment", Value: []byte("srv")},
		{Mailbox: Server, UserID: "alice", Entry: "/comment", Value: []byte("srvalice")},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d, mem
}

func TestOperations(t *testing.T) {
	all := " alice /comment=srvalice; S  /comment=srv; m1  /comment=shared1; m1 alice /comment=alice1; m1 bob /comment=bob1; m2  /comment=shared2; m2 alice /vendor/x/y=alice2"
	tests := []struct {
		name string
		op   func(d *DB) error
		want string
	}{
		{"nothing", func(d *DB) error { return nil }, "S" + all},
		{"delete mailbox", func(d *DB) error { return d.DeleteMailbox("m1") },
			"S alice /comment=srvalice; S  /comment=srv; m2  /comment=shared2; m2 alice /vendor/x/y=alice2"},
		{"delete user", func(d *DB) error { return d.DeleteUser("alice") },
			"S  /comment=srv; m1  /comment=shared1; m1 bob /comment=bob1; m2  /comment=shared2"},
		{"rename user", func(d *DB) error { return d.RenameUser("m1", "alice", "carol") },
			"S alice /comment=srvalice; S  /comment=srv; m1  /comment=shared1; m1 bob /comment=bob1; m1 carol /comment=alice1; m2  /comment=shared2; m2 alice /vendor/x/y=alice2"},
		{"copy mailbox", func(d *DB) error { return d.CopyMailbox("m2", "m3") },
			"S alice /comment=srvalice; S  /comment=srv; m1  /comment=shared1; m1 alice /comment=alice1; m1 bob /comment=bob1; m2  /comment=shared2; m2 alice /vendor/x/y=alice2; m3  /comment=shared2; m3 alice /vendor/x/y=alice2"},
		{"remove and set at once", func(d *DB) error {
			return d.Apply([]Change{{Mailbox: "m1", Entry: "/comment"}, {Mailbox: "m2", Entry: "/sort", Value: []byte("s")}})
		}, "S alice /comment=srvalice; S  /comment=srv; m1 alice /comment=alice1; m1 bob /comment=bob1; m2  /comment=shared2; m2  /sort=s; m2 alice /vendor/x/y=alice2"},
		{"NUL in a user refused", func(d *DB) error {
			if err := d.Apply([]Change{{Mailbox: "m1", UserID: "a\x00", Entry: "/x", Value: []byte("v")}}); err == nil {
				return fmt.Errorf("accepted")
			}
			return nil
		}, "S" + all},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, mem := seed(t)
			if err := tc.op(d); err != nil {
				t.Fatal(err)
			}
			got := dump(t, mem)
			// dump sorts "S alice" before "S  " by its own rules; compare
			// as sets.
			if !sameSet(got, tc.want) {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func sameSet(a, b string) bool {
	as, bs := strings.Split(a, "; "), strings.Split(b, "; ")
	sort.Strings(as)
	sort.Strings(bs)
	return strings.Join(as, "|") == strings.Join(bs, "|")
}

func TestGetScanCount(t *testing.T) {
	d, _ := seed(t)
	if v, ok, err := d.Get("m1", "alice", "/comment"); err != nil || !ok || string(v) != "alice1" {
		t.Errorf("Get = %q %v %v", v, ok, err)
	}
	if _, ok, err := d.Get("m1", "carol", "/comment"); err != nil || ok {
		t.Errorf("Get of a missing value = %v %v", ok, err)
	}
	var got []string
	d.Scan("m2", "alice", "/vendor", func(e string, v []byte) error {
		got = append(got, e+"="+string(v))
		return nil
	})
	if strings.Join(got, ",") != "/vendor/x/y=alice2" {
		t.Errorf("Scan = %v", got)
	}
	for _, tc := range []struct {
		mbox, user string
		n          int
	}{{"m1", "", 1}, {"m1", "alice", 1}, {"m2", "bob", 0}, {Server, "", 1}, {Server, "alice", 1}} {
		if n, err := d.Count(tc.mbox, tc.user); err != nil || n != tc.n {
			t.Errorf("Count(%q, %q) = %d %v, want %d", tc.mbox, tc.user, n, err, tc.n)
		}
	}
}
