package engineio

// PollWaiting reports whether a long-polling GET is held by the session, so
// black-box tests can order a request after it without guessing.
func PollWaiting(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.getActive
}

// ReadHeldBack reports whether a message from the client waits for room in
// the session's queue.
func ReadHeldBack(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queue.waiting()
}
