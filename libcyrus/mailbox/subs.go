package mailbox

import (
	"strings"
)

// Subscriptions are kept per user in the subscriptions database, keyed
// "<userid>\x00<internal name>" (LSUB, LIST (SUBSCRIBED)).

func subKey(userid, name string) []byte { return []byte(userid + "\x00" + name) }

// Subscribe adds name to userid's subscriptions. RFC 3501 6.3.6 allows
// subscribing to a name that does not exist.
func (s *Store) Subscribe(userid, name string) error {
	return s.subs.Put(subKey(userid, name), []byte{1})
}

// Unsubscribe removes name from userid's subscriptions.
func (s *Store) Unsubscribe(userid, name string) error {
	return s.subs.Delete(subKey(userid, name))
}

// Subscriptions calls fn for each of userid's subscriptions, in order.
func (s *Store) Subscriptions(userid string, fn func(name string) error) error {
	p := userid + "\x00"
	return s.subs.Scan([]byte(p), func(k, _ []byte) error {
		return fn(strings.TrimPrefix(string(k), p))
	})
}

// IsSubscribed reports whether userid subscribes to name.
func (s *Store) IsSubscribed(userid, name string) bool {
	_, err := s.subs.Get(subKey(userid, name))
	return err == nil
}

func (s *Store) deleteSubscriptions(userid string) {
	var keys [][]byte
	s.subs.Scan([]byte(userid+"\x00"), func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	for _, k := range keys {
		s.subs.Delete(k)
	}
}
