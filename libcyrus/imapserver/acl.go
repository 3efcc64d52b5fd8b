package imapserver

func cmdSetACL(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdDeleteACL(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdGetACL(ss *session, tag string) result { ss.r.SkipLine(); return no("", "Not implemented yet") }

func cmdListRights(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdMyRights(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
