package media_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/safeguard-oss/safeguard/internal/media"
)

func TestBudget(t *testing.T) {
	b := media.NewBudget(100)
	ctx := context.Background()
	_, err := b.Acquire(ctx, "huge.png", 101)
	var e *media.Error
	if !errors.As(err, &e) || e.Kind != media.OverBudget || !strings.Contains(err.Error(), "huge.png: ") || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("over the whole budget: %v, want an OverBudget *media.Error naming the image", err)
	}
	r60, err := b.Acquire(ctx, "a", 60)
	if err != nil {
		t.Fatal(err)
	}
	// 50 does not fit beside 60: it waits, and a 10 behind it waits too
	// (first come, first served), though 10 alone would fit.
	admitted := make(chan string, 2)
	go func() {
		r, err := b.Acquire(ctx, "b", 50)
		if err == nil {
			admitted <- "b"
			time.Sleep(10 * time.Millisecond)
			r()
		}
	}()
	time.Sleep(20 * time.Millisecond)
	go func() {
		r, err := b.Acquire(ctx, "c", 10)
		if err == nil {
			admitted <- "c"
			r()
		}
	}()
	select {
	case who := <-admitted:
		t.Fatalf("%s admitted while 60 of 100 were held and 50 was first in line", who)
	case <-time.After(50 * time.Millisecond):
	}
	r60()
	r60() // a second release is a no-op
	// Now both fit, together.
	for range 2 {
		select {
		case <-admitted:
		case <-time.After(5 * time.Second):
			t.Fatal("a waiter was never admitted after the release")
		}
	}
	// A wait that ends with its context leaves the line.
	hold, _ := b.Acquire(ctx, "d", 100)
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := b.Acquire(cctx, "e", 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("waiting past the deadline: %v", err)
	}
	hold()
	r, err := b.Acquire(ctx, "f", 100)
	if err != nil {
		t.Fatalf("the whole budget after everything was released: %v", err)
	}
	r()
}
