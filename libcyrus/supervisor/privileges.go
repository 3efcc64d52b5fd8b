package supervisor

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"github.com/cyrusgo/cyrusgo/libcyrus/config"
)

// dropPrivileges switches a master started as root to cyrus_user and its
// groups, after the listeners are bound and before anything is run, so no
// START, EVENTS, DAEMON or service command runs as root unless the
// configuration names root explicitly. Started as anyone else, master
// stays who it is.
func (m *Master) dropPrivileges() error {
	if os.Geteuid() != 0 {
		return nil
	}
	name := m.cfg.String(config.CyrusUser)
	if name == "" || name == "root" {
		if !m.cfg.IsSet(string(config.CyrusUser)) {
			return fmt.Errorf("cyrus_user is empty; refusing to run services as root")
		}
		m.log.Warn("cyrus_user is root: services run as root")
		return nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return fmt.Errorf("cyrus_user %q: %w", name, err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return fmt.Errorf("cyrus_user %q: uid %q: %w", name, u.Uid, err)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return fmt.Errorf("cyrus_user %q: gid %q: %w", name, u.Gid, err)
	}
	groups := []int{gid}
	if ids, err := u.GroupIds(); err == nil {
		for _, g := range ids {
			if n, err := strconv.Atoi(g); err == nil && n != gid {
				groups = append(groups, n)
			}
		}
	}
	// Since Go 1.16 these apply to every thread of the process.
	if err := syscall.Setgroups(groups); err != nil {
		return fmt.Errorf("setgroups for %s: %w", name, err)
	}
	if err := syscall.Setgid(gid); err != nil {
		return fmt.Errorf("setgid %d: %w", gid, err)
	}
	if err := syscall.Setuid(uid); err != nil {
		return fmt.Errorf("setuid %d: %w", uid, err)
	}
	m.log.Debug(fmt.Sprintf("running as %s (uid %d, gid %d)", name, uid, gid))
	return nil
}
