#include "textflag.h"

// LOADX loads the argument x into vector register V.
#define LOADX(V) \
	MOVD x_Lo+0(FP), R0 \
	MOVD x_Hi+8(FP), R1 \
	VMOV R0, V.D[0] \
	VMOV R1, V.D[1]

// func fillNEONasm(p *byte, n int, v byte), n >= 64: 64-byte stores, then
// one overlapping 64-byte store ending at p+n.
TEXT ·fillNEONasm(SB), NOSPLIT, $0-17
	MOVD  p+0(FP), R0
	MOVD  n+8(FP), R1
	MOVBU v+16(FP), R2
	VDUP  R2, V0.B16
	VMOV  V0.B16, V1.B16
	VMOV  V0.B16, V2.B16
	VMOV  V0.B16, V3.B16
	ADD   R0, R1, R3
	SUB   $64, R3, R3
floop:
	CMP   $64, R1
	BLT   flast
	VST1.P [V0.B16, V1.B16, V2.B16, V3.B16], 64(R0)
	SUB   $64, R1, R1
	B     floop
flast:
	VST1  [V0.B16, V1.B16, V2.B16, V3.B16], (R3)
	RET

// func isZeroNEONasm(p *byte, n int) bool, n a positive multiple of 64.
TEXT ·isZeroNEONasm(SB), NOSPLIT, $0-17
	MOVD p+0(FP), R0
	MOVD n+8(FP), R1
zloop:
	VLD1.P 64(R0), [V0.B16, V1.B16, V2.B16, V3.B16]
	VORR V1.B16, V0.B16, V0.B16
	VORR V3.B16, V2.B16, V2.B16
	VORR V2.B16, V0.B16, V0.B16
	VMOV V0.D[0], R2
	VMOV V0.D[1], R3
	ORR  R2, R3, R2
	CBNZ R2, znonzero
	SUBS $64, R1, R1
	BNE  zloop
	MOVD $1, R2
	MOVB R2, ret+16(FP)
	RET
znonzero:
	MOVB ZR, ret+16(FP)
	RET

// func crc32cARM64asm(crc uint32, p *byte, n int) uint32, n > 0.
TEXT ·crc32cARM64asm(SB), NOSPLIT, $0-28
	MOVWU crc+0(FP), R0
	MOVD  p+8(FP), R1
	MOVD  n+16(FP), R2
	MVNW  R0, R0
c8:
	CMP   $8, R2
	BLT   c1
	MOVD.P 8(R1), R3
	CRC32CX R3, R0
	SUB   $8, R2, R2
	B     c8
c1:
	CBZ   R2, cdone
	MOVBU.P 1(R1), R3
	CRC32CB R3, R0
	SUB   $1, R2, R2
	B     c1
cdone:
	MVNW  R0, R0
	MOVW  R0, ret+24(FP)
	RET

// func swizzleNEON(x, s V128) V128: TBL gives 0 for an index >= 16,
// exactly Wasm's rule.
TEXT ·swizzleNEON(SB), NOSPLIT, $0-48
	LOADX(V0)
	MOVD s_Lo+16(FP), R0
	MOVD s_Hi+24(FP), R1
	VMOV R0, V1.D[0]
	VMOV R1, V1.D[1]
	VTBL V1.B16, [V0.B16], V2.B16
	VMOV V2.D[0], R0
	VMOV V2.D[1], R1
	MOVD R0, ret_Lo+32(FP)
	MOVD R1, ret_Hi+40(FP)
	RET

// func shuffleNEON(x, y, m V128) V128: a two-register TBL over x:y.
TEXT ·shuffleNEON(SB), NOSPLIT, $0-64
	LOADX(V0)
	MOVD y_Lo+16(FP), R0
	MOVD y_Hi+24(FP), R1
	VMOV R0, V1.D[0]
	VMOV R1, V1.D[1]
	MOVD m_Lo+32(FP), R0
	MOVD m_Hi+40(FP), R1
	VMOV R0, V2.D[0]
	VMOV R1, V2.D[1]
	VTBL V2.B16, [V0.B16, V1.B16], V3.B16
	VMOV V3.D[0], R0
	VMOV V3.D[1], R1
	MOVD R0, ret_Lo+48(FP)
	MOVD R1, ret_Hi+56(FP)
	RET

// func i8x16PopcntNEON(x V128) V128
TEXT ·i8x16PopcntNEON(SB), NOSPLIT, $0-32
	LOADX(V0)
	VCNT V0.B16, V0.B16
	VMOV V0.D[0], R0
	VMOV V0.D[1], R1
	MOVD R0, ret_Lo+16(FP)
	MOVD R1, ret_Hi+24(FP)
	RET

// ROUND runs the FRINT* instruction FRINT (encoded, Vd=V1, Vn=V0), then
// replaces NaN lanes by the canonical NaN NAN as the portable reference
// does: FCMEQ V2 = (V1 == V1) is false exactly on NaN lanes, and
// BIF V1, V3, V2 takes V3's canonical NaN where V2 is clear.
// FCMEQ is given as FCMEQ.4S or .2D (encoded V2, V1, V1).
#define ROUND(NAME, FRINT, FCMEQ, NAN) \
TEXT NAME(SB), NOSPLIT, $0-32 \
	LOADX(V0) \
	WORD $FRINT \
	WORD $FCMEQ \
	MOVD $NAN, R2 \
	VMOV R2, V3.D[0] \
	VMOV R2, V3.D[1] \
	WORD $0x6ee21c61 \
	VMOV V1.D[0], R0 \
	VMOV V1.D[1], R1 \
	MOVD R0, ret_Lo+16(FP) \
	MOVD R1, ret_Hi+24(FP) \
	RET

// FRINTN/M/P/Z V1.4S, V0.4S and .2D; FCMEQ V2, V1, V1 (.4S, .2D).
ROUND(·f32x4NearestNEON, 0x4e218801, 0x4e21e422, 0x7fc000007fc00000)
ROUND(·f32x4FloorNEON, 0x4e219801, 0x4e21e422, 0x7fc000007fc00000)
ROUND(·f32x4CeilNEON, 0x4ea18801, 0x4e21e422, 0x7fc000007fc00000)
ROUND(·f32x4TruncNEON, 0x4ea19801, 0x4e21e422, 0x7fc000007fc00000)
ROUND(·f64x2NearestNEON, 0x4e618801, 0x4e61e422, 0x7ff8000000000000)
ROUND(·f64x2FloorNEON, 0x4e619801, 0x4e61e422, 0x7ff8000000000000)
ROUND(·f64x2CeilNEON, 0x4ee18801, 0x4e61e422, 0x7ff8000000000000)
ROUND(·f64x2TruncNEON, 0x4ee19801, 0x4e61e422, 0x7ff8000000000000)

// BINARY loads x into V0 and y into V1, runs three encoded instructions
// (NOP = 0xd503201f pads) and returns OUT. The encodings:
//
//	SQXTN   V2.8B, V0.8H   0x0e214802   SQXTN2  V2.16B, V1.8H  0x4e214822
//	SQXTUN  V2.8B, V0.8H   0x2e212802   SQXTUN2 V2.16B, V1.8H  0x6e212822
//	SQXTN   V2.4H, V0.4S   0x0e614802   SQXTN2  V2.8H, V1.4S   0x4e614822
//	SQXTUN  V2.4H, V0.4S   0x2e612802   SQXTUN2 V2.8H, V1.4S   0x6e612822
//	SQRDMULH V2.8H, V0.8H, V1.8H  0x6e61b402  (= (a*b + 0x4000) >> 15, saturated)
//	SMULL  V2.4S, V0.4H, V1.4H    0x0e61c002
//	SMULL2 V3.4S, V0.8H, V1.8H    0x4e61c003
//	ADDP   V2.4S, V2.4S, V3.4S    0x4ea3bc42  (pairwise: Wasm's dot, wrapping)
#define BINARY(NAME, W1, W2, W3) \
TEXT NAME(SB), NOSPLIT, $0-48 \
	LOADX(V0) \
	MOVD y_Lo+16(FP), R0 \
	MOVD y_Hi+24(FP), R1 \
	VMOV R0, V1.D[0] \
	VMOV R1, V1.D[1] \
	WORD $W1 \
	WORD $W2 \
	WORD $W3 \
	VMOV V2.D[0], R0 \
	VMOV V2.D[1], R1 \
	MOVD R0, ret_Lo+32(FP) \
	MOVD R1, ret_Hi+40(FP) \
	RET

BINARY(·i8x16NarrowNEON, 0x0e214802, 0x4e214822, 0xd503201f)
BINARY(·u8x16NarrowNEON, 0x2e212802, 0x6e212822, 0xd503201f)
BINARY(·i16x8NarrowNEON, 0x0e614802, 0x4e614822, 0xd503201f)
BINARY(·u16x8NarrowNEON, 0x2e612802, 0x6e612822, 0xd503201f)
BINARY(·q15mulrNEON, 0x6e61b402, 0xd503201f, 0xd503201f)
BINARY(·i32x4DotNEON, 0x0e61c002, 0x4e61c003, 0x4ea3bc42)
