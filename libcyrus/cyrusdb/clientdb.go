package cyrusdb

import "fmt"

// clientDB is one database reached through a Client.
type clientDB struct {
	c    *Client
	name string
}

func (d *clientDB) wrap(op string, err error) error {
	return fmt.Errorf("cyrusdb %s: %s: %w", d.name, op, err)
}

// checkName refuses, before anything is sent, a name that cannot be on
// the wire.
func (d *clientDB) checkName() error {
	if len(d.name) > MaxNameSize {
		return fmt.Errorf("database name of %d bytes: %w", len(d.name), ErrUnknownDB)
	}
	return nil
}

// statusErr turns a reply that is not the expected one into an error.
func statusErr(resp response) error {
	switch resp.status {
	case stUnknownDB:
		return ErrUnknownDB
	case stError:
		return fmt.Errorf("server: %s", resp.val)
	}
	return badFrame("unexpected reply status %d", resp.status)
}

// expectOK accepts an OK with an empty payload.
func expectOK(resp response) error {
	if resp.status != stOK {
		return statusErr(resp)
	}
	if len(resp.val) != 0 {
		return badFrame("unexpected payload in reply")
	}
	return nil
}

// Get implements DB.
func (d *clientDB) Get(key []byte) ([]byte, error) {
	if err := d.checkName(); err != nil {
		return nil, d.wrap("get", err)
	}
	if err := checkKV(key, nil); err != nil {
		return nil, d.wrap("get", err)
	}
	var v []byte
	err := d.c.call(&request{op: opGet, name: d.name, key: key}, true, func(resp response) error {
		switch resp.status {
		case stOK:
			v = append([]byte{}, resp.val...)
			return nil
		case stNotFound:
			return ErrNotFound
		}
		return statusErr(resp)
	})
	if err == ErrNotFound {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, d.wrap("get", err)
	}
	return v, nil
}

// write sends a write whose reply is a bare OK.
func (d *clientDB) write(req *request) error {
	if err := d.checkName(); err != nil {
		return d.wrap(opName(req.op), err)
	}
	req.name = d.name
	if err := d.c.call(req, true, expectOK); err != nil {
		return d.wrap(opName(req.op), err)
	}
	return nil
}

// Put implements DB.
func (d *clientDB) Put(key, value []byte) error {
	if err := checkKV(key, value); err != nil {
		return d.wrap("put", err)
	}
	return d.write(&request{op: opPut, key: key, val: value})
}

// Delete implements DB.
func (d *clientDB) Delete(key []byte) error {
	if err := checkKV(key, nil); err != nil {
		return d.wrap("delete", err)
	}
	return d.write(&request{op: opDelete, key: key})
}

// Batch implements DB.
func (d *clientDB) Batch(ops []Op) error {
	if len(ops) == 0 {
		return nil
	}
	if err := checkBatch(ops); err != nil {
		return d.wrap("batch", err)
	}
	return d.write(&request{op: opBatch, ops: ops})
}

// conditional sends PutIfAbsent or CompareAndSwap, which are not
// idempotent (see Client).
func (d *clientDB) conditional(req *request) (bool, error) {
	if err := d.checkName(); err != nil {
		return false, d.wrap(opName(req.op), err)
	}
	req.name = d.name
	var done bool
	err := d.c.call(req, false, func(resp response) error {
		if resp.status != stOK {
			return statusErr(resp)
		}
		if len(resp.val) != 1 || resp.val[0] > 1 {
			return badFrame("bad reply to %s", opName(req.op))
		}
		done = resp.val[0] == 1
		return nil
	})
	if err != nil {
		return false, d.wrap(opName(req.op), err)
	}
	return done, nil
}

// PutIfAbsent implements DB.
func (d *clientDB) PutIfAbsent(key, value []byte) (bool, error) {
	if err := checkKV(key, value); err != nil {
		return false, d.wrap("put-if-absent", err)
	}
	return d.conditional(&request{op: opPutIfAbsent, key: key, val: value})
}

// CompareAndSwap implements DB.
func (d *clientDB) CompareAndSwap(key, old, new []byte) (bool, error) {
	if err := checkKV(key, old); err != nil {
		return false, d.wrap("compare-and-swap", err)
	}
	if err := checkKV(key, new); err != nil {
		return false, d.wrap("compare-and-swap", err)
	}
	return d.conditional(&request{op: opCAS, key: key, old: old, val: new})
}

// Scan implements DB. The server streams the keys in windows; fn runs
// while the connection is held, on its own, so it may call the client
// (another connection is used). A broken connection is redialled and the
// scan resumes after the last key fn received.
func (d *clientDB) Scan(prefix []byte, fn func(key, value []byte) error) error {
	if err := d.checkName(); err != nil {
		return d.wrap("scan", err)
	}
	if len(prefix) > MaxKeySize {
		return d.wrap("scan", fmt.Errorf("prefix of %d bytes: %w", len(prefix), ErrTooLarge))
	}
	st := scanState{prefix: prefix, fn: fn}
	r := retrier{c: d.c}
	for {
		cn, pooled, err := d.c.get()
		if err == nil {
			var finished bool
			finished, err = d.scanOn(cn, &st)
			if finished {
				if st.fnErr != nil {
					return st.fnErr
				}
				if err != nil {
					return d.wrap("scan", err)
				}
				return nil
			}
			cn.nc.Close()
			if st.progressed {
				st.progressed = false
				r.progress()
				continue
			}
			if pooled {
				d.c.dropIdle()
				continue
			}
		}
		if err := r.wait(err); err != nil {
			return d.wrap("scan", err)
		}
	}
}

// scanState carries a scan across reconnections.
type scanState struct {
	prefix     []byte
	after      []byte // last key delivered to fn; nil before the first
	fn         func(key, value []byte) error
	stopping   bool  // fn asked to end: discard the rest of the window
	fnErr      error // what fn returned, other than ErrStop
	progressed bool  // an item arrived since the last connection failure
}

// scanOn runs the scan conversation on cn. finished is true when the scan
// is over, for good or with the error returned (cn is then released or
// closed here); false means the connection failed (err says how) and the
// caller should retry on another.
func (d *clientDB) scanOn(cn *clientConn, st *scanState) (finished bool, err error) {
	req := &request{op: opScan, name: d.name, key: st.prefix, old: st.after}
	if err := cn.send(req); err != nil {
		return false, err
	}
	for {
		resp, err := cn.recv()
		if err != nil {
			if st.stopping {
				// fn is done with this scan; the window being drained
				// does not matter.
				cn.nc.Close()
				return true, nil
			}
			return false, err
		}
		switch resp.status {
		case stItem:
			if st.stopping {
				continue
			}
			st.progressed = true
			st.after = append(st.after[:0], resp.key...)
			if st.after == nil {
				st.after = []byte{} // the empty key was delivered: keep "after" non-nil
			}
			if err := st.fn(resp.key, resp.val); err != nil {
				st.stopping = true
				if err != ErrStop { // as Mem: the sentinel itself
					st.fnErr = err
				}
			}
		case stMore:
			next := &request{op: opContinue}
			if st.stopping {
				next.op = opStop
			}
			if err := cn.send(next); err != nil {
				if st.stopping {
					cn.nc.Close()
					return true, nil
				}
				return false, err
			}
		case stEnd:
			d.c.release(cn)
			return true, nil
		case stError, stUnknownDB:
			d.c.release(cn)
			return true, statusErr(resp)
		default:
			cn.nc.Close()
			if st.stopping {
				return true, nil
			}
			return false, badFrame("unexpected reply status %d during scan", resp.status)
		}
	}
}
