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

// TestBudgetShare: one holder (an API key) holds at most half the budget,
// so that its uploads, sent slowly, cannot keep every other holder's
// waiting (twelve slow scans by one key once stalled every scan); past its
// share it is refused at once, naming the holder, unless it holds nothing.
func TestBudgetShare(t *testing.T) {
	b := media.NewBudget(100)
	ctx := context.Background()
	r1, err := b.AcquireShare(ctx, "key a", "request body", 40)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.AcquireShare(ctx, "key a", "request body", 20); err == nil || !strings.Contains(err.Error(), "key a") {
		t.Fatalf("key a past half the budget: %v, want a refusal naming it", err)
	} else if me := (*media.Error)(nil); !errors.As(err, &me) || me.Kind != media.Busy {
		t.Fatalf("refusal %v is not of Kind Busy", err)
	}
	r2, err := b.AcquireShare(ctx, "key b", "request body", 50) // another key is not held back
	if err != nil {
		t.Fatal(err)
	}
	r1()
	r3, err := b.AcquireShare(ctx, "key a", "request body", 50) // its share back once released
	if err != nil {
		t.Fatal(err)
	}
	r2()
	r3()
	r4, err := b.AcquireShare(ctx, "key c", "request body", 90) // one body alone may be more than half
	if err != nil {
		t.Fatal(err)
	}
	r4()
	// All given back: the whole budget, and key a's whole share, are free.
	short, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	r5, err := b.Acquire(short, "all", 100)
	if err != nil {
		t.Fatalf("the whole budget after every release: %v", err)
	}
	r5()
	r6, err := b.AcquireShare(ctx, "key a", "request body", 50)
	if err != nil {
		t.Fatalf("key a's share after every release: %v", err)
	}
	r6()
}
