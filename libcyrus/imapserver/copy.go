package imapserver

func cmdCopy(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdUIDCopy(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdMove(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdUIDMove(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
