package lh103

// NewPump starts a pump (declared in pump.go) that can never stop.
func NewPump() *Pump {
	p := &Pump{in: make(chan int)}
	go p.pump() // want LH103
	return p
}

// NewTicker starts a loop that returns on quit.
func NewTicker() *Ticker {
	t := &Ticker{quit: make(chan struct{})}
	go t.run()
	return t
}
