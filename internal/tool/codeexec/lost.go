package codeexec

// NoteLost records that the conversation's Python session was lost
// somewhere this interpreter cannot see (the server instance that held it
// is gone), unless this interpreter holds a live session for it: the next
// call of the conversation then starts a fresh session and its output says
// so, as for a session that ended here.
func (ix *Interpreter) NoteLost(workspace, conversationID, why string) {
	if ix.pool == nil || conversationID == "" {
		return
	}
	key := workspace + "\x00" + conversationID
	p := ix.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, live := p.sessions[key]; live {
		return
	}
	if len(p.ended) >= maxEnded {
		for k := range p.ended {
			delete(p.ended, k)
			break
		}
	}
	p.ended[key] = why
}
