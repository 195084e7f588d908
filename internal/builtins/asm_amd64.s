#include "textflag.h"

// Constants for the byte-shuffle kernels.
DATA c70<>+0(SB)/8, $0x7070707070707070
DATA c70<>+8(SB)/8, $0x7070707070707070
GLOBL c70<>(SB), RODATA|NOPTR, $16
DATA c10<>+0(SB)/8, $0x1010101010101010
DATA c10<>+8(SB)/8, $0x1010101010101010
GLOBL c10<>(SB), RODATA|NOPTR, $16
DATA c0f<>+0(SB)/8, $0x0f0f0f0f0f0f0f0f
DATA c0f<>+8(SB)/8, $0x0f0f0f0f0f0f0f0f
GLOBL c0f<>(SB), RODATA|NOPTR, $16
// Bits set in each nibble value 0..15.
DATA popLUT<>+0(SB)/8, $0x0302020102010100
DATA popLUT<>+8(SB)/8, $0x0403030203020201
GLOBL popLUT<>(SB), RODATA|NOPTR, $16
DATA nan32<>+0(SB)/8, $0x7fc000007fc00000
DATA nan32<>+8(SB)/8, $0x7fc000007fc00000
GLOBL nan32<>(SB), RODATA|NOPTR, $16
DATA nan64<>+0(SB)/8, $0x7ff8000000000000
DATA nan64<>+8(SB)/8, $0x7ff8000000000000
GLOBL nan64<>(SB), RODATA|NOPTR, $16

// func fillAVX2asm(p *byte, n int, v byte), n >= 32.
// 128 bytes per iteration, then 32, then one overlapping 32-byte store
// ending at p+n.
TEXT ·fillAVX2asm(SB), NOSPLIT, $0-17
	MOVQ    p+0(FP), DI
	MOVQ    n+8(FP), CX
	MOVBLZX v+16(FP), AX
	MOVQ    AX, X0
	VPBROADCASTB X0, Y0
	LEAQ    -32(DI)(CX*1), DX
	CMPQ    CX, $128
	JB      loop32
loop128:
	VMOVDQU Y0, 0(DI)
	VMOVDQU Y0, 32(DI)
	VMOVDQU Y0, 64(DI)
	VMOVDQU Y0, 96(DI)
	ADDQ    $128, DI
	SUBQ    $128, CX
	CMPQ    CX, $128
	JAE     loop128
loop32:
	CMPQ    CX, $32
	JB      last
	VMOVDQU Y0, 0(DI)
	ADDQ    $32, DI
	SUBQ    $32, CX
	JMP     loop32
last:
	VMOVDQU Y0, 0(DX)
	VZEROUPPER
	RET

// func fillERMSasm(p *byte, n int, v byte)
TEXT ·fillERMSasm(SB), NOSPLIT, $0-17
	MOVQ    p+0(FP), DI
	MOVQ    n+8(FP), CX
	MOVBLZX v+16(FP), AX
	REP;    STOSB
	RET

// func copyERMSasm(dst, src *byte, n int): forward only.
TEXT ·copyERMSasm(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	REP; MOVSB
	RET

// func isZeroSSE2asm(p *byte, n int) bool, n a positive multiple of 64.
TEXT ·isZeroSSE2asm(SB), NOSPLIT, $0-17
	MOVQ  p+0(FP), SI
	MOVQ  n+8(FP), CX
	PXOR  X4, X4
zloop:
	MOVOU 0(SI), X0
	MOVOU 16(SI), X1
	MOVOU 32(SI), X2
	MOVOU 48(SI), X3
	POR   X1, X0
	POR   X3, X2
	POR   X2, X0
	PCMPEQB X4, X0
	PMOVMSKB X0, AX
	CMPL  AX, $0xffff
	JNE   nonzero
	ADDQ  $64, SI
	SUBQ  $64, CX
	JNZ   zloop
	MOVB  $1, ret+16(FP)
	RET
nonzero:
	MOVB  $0, ret+16(FP)
	RET

// func isZeroAVX2asm(p *byte, n int) bool, n a positive multiple of 128.
TEXT ·isZeroAVX2asm(SB), NOSPLIT, $0-17
	MOVQ    p+0(FP), SI
	MOVQ    n+8(FP), CX
yloop:
	VMOVDQU 0(SI), Y0
	VMOVDQU 32(SI), Y1
	VPOR    64(SI), Y0, Y0
	VPOR    96(SI), Y1, Y1
	VPOR    Y1, Y0, Y0
	VPTEST  Y0, Y0
	JNZ     ynonzero
	ADDQ    $128, SI
	SUBQ    $128, CX
	JNZ     yloop
	VZEROUPPER
	MOVB    $1, ret+16(FP)
	RET
ynonzero:
	VZEROUPPER
	MOVB    $0, ret+16(FP)
	RET

// func crc32cSSE42asm(crc uint32, p *byte, n int) uint32, n > 0.
// One CRC32Q per 8 bytes (a single dependency chain), then bytes.
TEXT ·crc32cSSE42asm(SB), NOSPLIT, $0-28
	MOVL crc+0(FP), AX
	MOVQ p+8(FP), SI
	MOVQ n+16(FP), CX
	NOTL AX
	CMPQ CX, $32
	JB   c8
c32:
	CRC32Q 0(SI), AX
	CRC32Q 8(SI), AX
	CRC32Q 16(SI), AX
	CRC32Q 24(SI), AX
	ADDQ $32, SI
	SUBQ $32, CX
	CMPQ CX, $32
	JAE  c32
c8:
	CMPQ CX, $8
	JB   c1
	CRC32Q 0(SI), AX
	ADDQ $8, SI
	SUBQ $8, CX
	JMP  c8
c1:
	TESTQ CX, CX
	JZ   cdone
	CRC32B 0(SI), AX
	INCQ SI
	DECQ CX
	JMP  c1
cdone:
	NOTL AX
	MOVL AX, ret+24(FP)
	RET

// func swizzleSSSE3(x, s V128) V128: PSHUFB zeroes a lane whose index
// has bit 7 set; a saturating +0x70 sets it for every index >= 16.
TEXT ·swizzleSSSE3(SB), NOSPLIT, $0-48
	MOVQ x_Lo+0(FP), X0
	MOVHPS x_Hi+8(FP), X0
	MOVQ s_Lo+16(FP), X1
	MOVHPS s_Hi+24(FP), X1
	PADDUSB c70<>(SB), X1
	PSHUFB X1, X0
	MOVQ X0, ret_Lo+32(FP)
	MOVHPS X0, ret_Hi+40(FP)
	RET

// func shuffleSSSE3(x, y, m V128) V128, every index of m < 32: x's bytes
// by m (indices >= 16 zeroed), or'ed with y's bytes by m-16 (indices < 16
// wrap to 0xF0.. and are zeroed).
TEXT ·shuffleSSSE3(SB), NOSPLIT, $0-64
	MOVQ m_Lo+32(FP), X2
	MOVHPS m_Hi+40(FP), X2
	MOVOU X2, X3
	PADDUSB c70<>(SB), X2
	PSUBB c10<>(SB), X3
	MOVQ x_Lo+0(FP), X0
	MOVHPS x_Hi+8(FP), X0
	MOVQ y_Lo+16(FP), X1
	MOVHPS y_Hi+24(FP), X1
	PSHUFB X2, X0
	PSHUFB X3, X1
	POR X1, X0
	MOVQ X0, ret_Lo+48(FP)
	MOVHPS X0, ret_Hi+56(FP)
	RET

// func i8x16PopcntSSSE3(x V128) V128: a nibble lookup per half byte.
TEXT ·i8x16PopcntSSSE3(SB), NOSPLIT, $0-32
	MOVQ x_Lo+0(FP), X0
	MOVHPS x_Hi+8(FP), X0
	MOVOU X0, X1
	PSRLW $4, X1
	MOVOU c0f<>(SB), X4
	PAND  X4, X0
	PAND  X4, X1
	MOVOU popLUT<>(SB), X2
	MOVOU X2, X3
	PSHUFB X0, X2
	PSHUFB X1, X3
	PADDB X3, X2
	MOVQ X2, ret_Lo+16(FP)
	MOVHPS X2, ret_Hi+24(FP)
	RET

// func i8x16BitmaskSSE2(x V128) uint32
TEXT ·i8x16BitmaskSSE2(SB), NOSPLIT, $0-20
	MOVQ x_Lo+0(FP), X0
	MOVHPS x_Hi+8(FP), X0
	PMOVMSKB X0, AX
	MOVL AX, ret+16(FP)
	RET

// ROUND rounds x with ROUNDPS/ROUNDPD mode MODE (0 nearest even, 1 down,
// 2 up, 3 toward zero; +8 suppresses the inexact exception), then replaces
// NaN lanes by the canonical NaN as the portable reference does, so both
// give the same bits on every CPU.
#define ROUND(NAME, ROUNDOP, CMPOP, MODE, NAN) \
TEXT NAME(SB), NOSPLIT, $0-32 \
	MOVQ x_Lo+0(FP), X0 \
	MOVHPS x_Hi+8(FP), X0 \
	ROUNDOP $(8+MODE), X0, X1 \
	MOVOU X1, X2 \
	CMPOP X2, X2, $3 \
	MOVOU NAN(SB), X3 \
	ANDPS X2, X3 \
	ANDNPS X1, X2 \
	ORPS X3, X2 \
	MOVQ X2, ret_Lo+16(FP) \
	MOVHPS X2, ret_Hi+24(FP) \
	RET

ROUND(·f32x4NearestSSE41, ROUNDPS, CMPPS, 0, nan32<>)
ROUND(·f32x4FloorSSE41, ROUNDPS, CMPPS, 1, nan32<>)
ROUND(·f32x4CeilSSE41, ROUNDPS, CMPPS, 2, nan32<>)
ROUND(·f32x4TruncSSE41, ROUNDPS, CMPPS, 3, nan32<>)
ROUND(·f64x2NearestSSE41, ROUNDPD, CMPPD, 0, nan64<>)
ROUND(·f64x2FloorSSE41, ROUNDPD, CMPPD, 1, nan64<>)
ROUND(·f64x2CeilSSE41, ROUNDPD, CMPPD, 2, nan64<>)
ROUND(·f64x2TruncSSE41, ROUNDPD, CMPPD, 3, nan64<>)

// BINARY applies the two-operand instruction OP as X0 = OP(X0=x, X1=y),
// which is exactly the Wasm instruction for the PACK* narrows (x's lanes
// low, y's high, signed saturation into the signed or unsigned range) and
// for PMADDWD (i32x4.dot_i16x8_s, wrapping like Wasm).
#define BINARY(NAME, OP) \
TEXT NAME(SB), NOSPLIT, $0-48 \
	MOVQ x_Lo+0(FP), X0 \
	MOVHPS x_Hi+8(FP), X0 \
	MOVQ y_Lo+16(FP), X1 \
	MOVHPS y_Hi+24(FP), X1 \
	OP X1, X0 \
	MOVQ X0, ret_Lo+32(FP) \
	MOVHPS X0, ret_Hi+40(FP) \
	RET

BINARY(·i8x16NarrowSSE2, PACKSSWB)
BINARY(·u8x16NarrowSSE2, PACKUSWB)
BINARY(·i16x8NarrowSSE2, PACKSSLW) // PACKSSDW
BINARY(·u16x8NarrowSSE41, PACKUSDW)
BINARY(·i32x4DotSSE2, PMADDWL) // PMADDWD

DATA c8000<>+0(SB)/8, $0x8000800080008000
DATA c8000<>+8(SB)/8, $0x8000800080008000
GLOBL c8000<>(SB), RODATA|NOPTR, $16

// func q15mulrSSSE3(x, y V128) V128: PMULHRSW is (a*b + 0x4000) >> 15;
// its one overflow, -32768 * -32768, gives 0x8000 (no other product
// rounds to -32768), which Wasm saturates to 0x7fff: flip those lanes.
TEXT ·q15mulrSSSE3(SB), NOSPLIT, $0-48
	MOVQ x_Lo+0(FP), X0
	MOVHPS x_Hi+8(FP), X0
	MOVQ y_Lo+16(FP), X1
	MOVHPS y_Hi+24(FP), X1
	PMULHRSW X1, X0
	MOVOU c8000<>(SB), X2
	PCMPEQW X0, X2
	PXOR X2, X0
	MOVQ X0, ret_Lo+32(FP)
	MOVHPS X0, ret_Hi+40(FP)
	RET
