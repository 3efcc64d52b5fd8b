package imapserver

func cmdGetQuota(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdGetQuotaRoot(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}

func cmdSetQuota(ss *session, tag string) result {
	ss.r.SkipLine()
	return no("", "Not implemented yet")
}
