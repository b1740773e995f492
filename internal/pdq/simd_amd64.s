//go:build amd64 && !purego

#include "textflag.h"

// The kernels of simd_amd64.go. Each does the float32 operations of the Go
// code it replaces, per element and in the same order, 8 elements a
// vector; none uses a fused multiply-add.

// func addSubAVX2(sums, add, sub *float32, n int)
TEXT ·addSubAVX2(SB), NOSPLIT, $0-32
	MOVQ sums+0(FP), DI
	MOVQ add+8(FP), SI
	MOVQ sub+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	TESTQ CX, CX
	JLE asdone
asloop:
	VMOVUPS (DI)(AX*4), Y0
	VADDPS (SI)(AX*4), Y0, Y0
	VSUBPS (DX)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JL asloop
asdone:
	VZEROUPPER
	RET

// func addAVX2(sums, add *float32, n int)
TEXT ·addAVX2(SB), NOSPLIT, $0-24
	MOVQ sums+0(FP), DI
	MOVQ add+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	TESTQ CX, CX
	JLE adone
aloop:
	VMOVUPS (DI)(AX*4), Y0
	VADDPS (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JL aloop
adone:
	VZEROUPPER
	RET

// func subAVX2(sums, sub *float32, n int)
TEXT ·subAVX2(SB), NOSPLIT, $0-24
	MOVQ sums+0(FP), DI
	MOVQ sub+8(FP), SI
	MOVQ n+16(FP), CX
	XORQ AX, AX
	TESTQ CX, CX
	JLE sdone
sloop:
	VMOVUPS (DI)(AX*4), Y0
	VSUBPS (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JL sloop
sdone:
	VZEROUPPER
	RET

// func divAVX2(out, sums *float32, div float32, n int)
TEXT ·divAVX2(SB), NOSPLIT, $0-32
	MOVQ out+0(FP), DI
	MOVQ sums+8(FP), SI
	VBROADCASTSS div+16(FP), Y1
	MOVQ n+24(FP), CX
	XORQ AX, AX
	TESTQ CX, CX
	JLE ddone
dloop:
	VMOVUPS (SI)(AX*4), Y0
	VDIVPS Y1, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JL dloop
ddone:
	VZEROUPPER
	RET

// func transposeAVX2(dst *[8]*float32, dstStep int, src *[8]*float32, srcStep int, n int)
TEXT ·transposeAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ dstStep+8(FP), R10
	MOVQ src+16(FP), SI
	MOVQ srcStep+24(FP), R9
	MOVQ n+32(FP), CX
	XORQ R12, R12
	XORQ R13, R13
	TESTQ CX, CX
	JLE tdone
tloop:
	MOVQ 0(SI), AX
	VMOVUPS (AX)(R12*1), Y0
	MOVQ 8(SI), AX
	VMOVUPS (AX)(R12*1), Y1
	MOVQ 16(SI), AX
	VMOVUPS (AX)(R12*1), Y2
	MOVQ 24(SI), AX
	VMOVUPS (AX)(R12*1), Y3
	MOVQ 32(SI), AX
	VMOVUPS (AX)(R12*1), Y4
	MOVQ 40(SI), AX
	VMOVUPS (AX)(R12*1), Y5
	MOVQ 48(SI), AX
	VMOVUPS (AX)(R12*1), Y6
	MOVQ 56(SI), AX
	VMOVUPS (AX)(R12*1), Y7

	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	MOVQ 0(DI), AX
	VMOVUPS Y8, (AX)(R13*1)
	MOVQ 8(DI), AX
	VMOVUPS Y9, (AX)(R13*1)
	MOVQ 16(DI), AX
	VMOVUPS Y10, (AX)(R13*1)
	MOVQ 24(DI), AX
	VMOVUPS Y11, (AX)(R13*1)
	MOVQ 32(DI), AX
	VMOVUPS Y12, (AX)(R13*1)
	MOVQ 40(DI), AX
	VMOVUPS Y13, (AX)(R13*1)
	MOVQ 48(DI), AX
	VMOVUPS Y14, (AX)(R13*1)
	MOVQ 56(DI), AX
	VMOVUPS Y15, (AX)(R13*1)

	ADDQ R9, R12
	ADDQ R10, R13
	DECQ CX
	JNZ tloop
tdone:
	VZEROUPPER
	RET

// func boxAVX2(in, out *float32, dst *int32, divs *float32, steps, window, emitFrom int)
TEXT ·boxAVX2(SB), NOSPLIT, $0-56
	MOVQ in+0(FP), SI
	MOVQ out+8(FP), DI
	MOVQ dst+16(FP), R8
	MOVQ divs+24(FP), R9
	MOVQ steps+32(FP), CX
	MOVQ window+40(FP), DX
	MOVQ emitFrom+48(FP), R10
	SHLQ $5, DX
	VXORPS Y0, Y0, Y0
	XORQ AX, AX
	TESTQ CX, CX
	JLE bdone
bloop:
	// s = (s + in[t+window]) - in[t]: the reference's add, then subtract.
	VADDPS (SI)(DX*1), Y0, Y0
	VSUBPS (SI), Y0, Y0
	ADDQ $32, SI
	MOVQ AX, BX
	SUBQ R10, BX
	JL bnext
	MOVLQSX (R8)(BX*4), R11
	TESTQ R11, R11
	JL bnext
	VBROADCASTSS (R9)(BX*4), Y1
	VDIVPS Y1, Y0, Y2
	SHLQ $5, R11
	VMOVUPS Y2, (DI)(R11*1)
bnext:
	INCQ AX
	CMPQ AX, CX
	JL bloop
bdone:
	VZEROUPPER
	RET

// func lumaAVX2(out *float32, pix *byte, n int, cr, cg, cb float32)
TEXT ·lumaAVX2(SB), NOSPLIT, $0-36
	MOVQ out+0(FP), DI
	MOVQ pix+8(FP), SI
	MOVQ n+16(FP), CX
	VBROADCASTSS cr+24(FP), Y13
	VBROADCASTSS cg+28(FP), Y14
	VBROADCASTSS cb+32(FP), Y15
	MOVL $0xff, AX
	VMOVD AX, X12
	VPBROADCASTD X12, Y12
	XORQ AX, AX
	TESTQ CX, CX
	JLE ldone
lloop:
	VMOVDQU (SI)(AX*4), Y0
	VPAND Y12, Y0, Y1
	VPSRLD $8, Y0, Y2
	VPAND Y12, Y2, Y2
	VPSRLD $16, Y0, Y3
	VPAND Y12, Y3, Y3
	VCVTDQ2PS Y1, Y1
	VCVTDQ2PS Y2, Y2
	VCVTDQ2PS Y3, Y3
	VMULPS Y13, Y1, Y1
	VMULPS Y14, Y2, Y2
	VMULPS Y15, Y3, Y3
	VADDPS Y2, Y1, Y1
	VADDPS Y3, Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ $8, AX
	CMPQ AX, CX
	JL lloop
ldone:
	VZEROUPPER
	RET

// func mulAccAVX2(out, coef, m *float32, k, n int)
TEXT ·mulAccAVX2(SB), NOSPLIT, $0-40
	MOVQ out+0(FP), DI
	MOVQ coef+8(FP), SI
	MOVQ m+16(FP), DX
	MOVQ k+24(FP), R8
	MOVQ n+32(FP), R9
	MOVQ R9, R10
	SHLQ $2, R10 // a row of m in bytes
	XORQ BX, BX  // column
mcol:
	CMPQ BX, R9
	JGE mdone
	VXORPS Y0, Y0, Y0
	LEAQ (DX)(BX*4), R11 // m[0][column]
	XORQ AX, AX
mrow:
	// s += float32(coef[kk] * m[kk][j]): the product rounded, then added.
	VBROADCASTSS (SI)(AX*4), Y1
	VMULPS (R11), Y1, Y1
	VADDPS Y1, Y0, Y0
	ADDQ R10, R11
	INCQ AX
	CMPQ AX, R8
	JL mrow
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ $8, BX
	JMP mcol
mdone:
	VZEROUPPER
	RET
