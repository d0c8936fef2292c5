package lh103

// Pump forwards values forever.
type Pump struct{ in chan int }

func (p *Pump) pump() {
	for {
		v := <-p.in
		_ = v
	}
}

// Ticker stops on its quit channel.
type Ticker struct{ quit chan struct{} }

func (t *Ticker) run() {
	for {
		select {
		case <-t.quit:
			return
		default:
		}
	}
}
