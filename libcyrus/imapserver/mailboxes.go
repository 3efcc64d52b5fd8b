package imapserver

func cmdCreate(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdDelete(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdRename(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdSubscribe(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdUnsubscribe(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdList(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdXList(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdLsub(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdStatus(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdNamespace(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
