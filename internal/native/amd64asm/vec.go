package amd64asm

import "github.com/ferryvm/ferry/internal/cpu"

// VecOp is a packed (128-bit lane-wise) vector operation. One table entry
// describes both its legacy SSE encoding (the Vec… methods, two operands,
// dst is also a source) and its VEX encoding (the V… methods in vex.go,
// three operands, 128 or 256 bits); a few entries exist only as VEX.
//
// The legacy memory forms need a 16-byte-aligned operand except the
// unaligned moves (MOVDQU, MOVUPS) and the narrow loads (MOVQ, MOVD,
// PMOVSX/ZX, CVTPS2PD, CVTDQ2PD, MOVDDUP); VEX memory forms never fault on
// alignment except VMOVDQA.
type VecOp uint8

// Packed operations, grouped by the feature of their legacy form.
const (
	// SSE2 integer lanes.
	PADDB VecOp = iota
	PADDW
	PADDD
	PADDQ
	PADDSB
	PADDSW
	PADDUSB
	PADDUSW
	PSUBB
	PSUBW
	PSUBD
	PSUBQ
	PSUBSB
	PSUBSW
	PSUBUSB
	PSUBUSW
	PMULLW
	PMULHW
	PMULHUW
	PMULUDQ
	PMADDWD
	PAND
	PANDN
	POR
	PXOR
	PCMPEQB
	PCMPEQW
	PCMPEQD
	PCMPGTB
	PCMPGTW
	PCMPGTD
	PMINUB
	PMAXUB
	PMINSW
	PMAXSW
	PAVGB
	PAVGW
	PSLLW // shifts by the count in the low 64 bits of an XMM register
	PSLLD
	PSLLQ
	PSRLW
	PSRLD
	PSRLQ
	PSRAW
	PSRAD
	PUNPCKLBW
	PUNPCKLWD
	PUNPCKLDQ
	PUNPCKLQDQ
	PUNPCKHBW
	PUNPCKHWD
	PUNPCKHDQ
	PUNPCKHQDQ
	PACKSSWB
	PACKSSDW
	PACKUSWB
	PSHUFD  // imm8
	PSHUFLW // imm8
	PSHUFHW // imm8
	// SSE2 float lanes.
	ADDPS
	ADDPD
	SUBPS
	SUBPD
	MULPS
	MULPD
	DIVPS
	DIVPD
	SQRTPS
	SQRTPD
	MINPS
	MINPD
	MAXPS
	MAXPD
	CMPPS // imm8: a CmpPred
	CMPPD // imm8: a CmpPred
	SHUFPS
	SHUFPD
	UNPCKLPS
	UNPCKHPS
	UNPCKLPD
	UNPCKHPD
	CVTDQ2PS
	CVTPS2DQ
	CVTTPS2DQ
	CVTPS2PD
	CVTPD2PS
	CVTDQ2PD
	CVTTPD2DQ
	// SSE2 moves. MOVQ zeroes the upper lane; MOVD exists here only as a
	// 4-byte load or store (MovToX/MovFromX are its register forms);
	// MOVHLPS/MOVLHPS exist only between registers.
	MOVDQU
	MOVDQA
	MOVUPS
	MOVQ
	MOVD
	MOVHLPS
	MOVLHPS
	// SSE3.
	MOVDDUP
	MOVSLDUP
	MOVSHDUP
	// SSSE3.
	PSHUFB
	PABSB
	PABSW
	PABSD
	PMULHRSW
	PMADDUBSW
	PALIGNR // imm8
	// SSE4.1.
	PMULLD
	PMULDQ
	PMINSB
	PMINSD
	PMINUW
	PMINUD
	PMAXSB
	PMAXSD
	PMAXUW
	PMAXUD
	PCMPEQQ
	PACKUSDW
	PTEST
	PMOVSXBW
	PMOVSXBD
	PMOVSXBQ
	PMOVSXWD
	PMOVSXWQ
	PMOVSXDQ
	PMOVZXBW
	PMOVZXBD
	PMOVZXBQ
	PMOVZXWD
	PMOVZXWQ
	PMOVZXDQ
	ROUNDPS  // imm8: a RoundMode
	ROUNDPD  // imm8: a RoundMode
	PBLENDW  // imm8
	BLENDPS  // imm8
	BLENDPD  // imm8
	INSERTPS // imm8
	// SSE4.2.
	PCMPGTQ
	// VEX only (AVX2 unless noted): cross-lane permutes and broadcasts,
	// 128-bit halves, FMA and F16C conversions.
	VPERMQ // imm8; 256-bit only
	VPERMD // 256-bit only
	VPBROADCASTB
	VPBROADCASTW
	VPBROADCASTD
	VPBROADCASTQ
	VINSERTI128  // imm8; 256-bit only
	VINSERTF128  // imm8; 256-bit only; avx
	VFMADD231PS  // fma: dst = s1*s2 + dst, one rounding
	VFMADD231PD  // fma
	VFNMADD231PS // fma: dst = -(s1*s2) + dst
	VFNMADD231PD // fma
	VCVTPH2PS    // f16c
	vecEnd
)

// Flags of a vecForm.
const (
	vUnary   = 1 << iota // one source: the VEX form has no vvvv operand
	vImm                 // takes an imm8
	vI256                // the 256-bit VEX form is AVX2 (integer lanes)
	vNo256               // no 256-bit VEX form
	vOnly256             // no 128-bit VEX form
	vMemOnly             // no register-register form
	vRegOnly             // no memory form
	vVEXOnly             // no legacy form; feat is the VEX form's feature
	vW1                  // VEX.W1
	vSrcX                // the rm operand is an XMM register at every length
	vDstX                // the destination is an XMM register at every length
	vSrc2X               // VEX: the rm operand of a 256-bit form is an XMM register
)

// vecForm is one operation's encoding: mandatory prefix (0, 66, F3, F2),
// opcode map (1: 0F, 2: 0F38, 3: 0F3A), opcode, the opcode of the store
// form if any, the legacy form's feature (or the VEX-only form's) and
// flags.
type vecForm struct {
	name  string
	pfx   byte
	mp    byte
	op    byte
	st    byte
	feat  cpu.Feature
	flags uint16
}

const (
	isaSSE2  = cpu.X86SSE2
	isaSSE3  = cpu.X86SSE3
	isaSSSE3 = cpu.X86SSSE3
	isaSSE41 = cpu.X86SSE41
	isaSSE42 = cpu.X86SSE42
)

var vecForms = [vecEnd]vecForm{
	PADDB: {"paddb", 0x66, 1, 0xFC, 0, isaSSE2, vI256}, PADDW: {"paddw", 0x66, 1, 0xFD, 0, isaSSE2, vI256},
	PADDD: {"paddd", 0x66, 1, 0xFE, 0, isaSSE2, vI256}, PADDQ: {"paddq", 0x66, 1, 0xD4, 0, isaSSE2, vI256},
	PADDSB: {"paddsb", 0x66, 1, 0xEC, 0, isaSSE2, vI256}, PADDSW: {"paddsw", 0x66, 1, 0xED, 0, isaSSE2, vI256},
	PADDUSB: {"paddusb", 0x66, 1, 0xDC, 0, isaSSE2, vI256}, PADDUSW: {"paddusw", 0x66, 1, 0xDD, 0, isaSSE2, vI256},
	PSUBB: {"psubb", 0x66, 1, 0xF8, 0, isaSSE2, vI256}, PSUBW: {"psubw", 0x66, 1, 0xF9, 0, isaSSE2, vI256},
	PSUBD: {"psubd", 0x66, 1, 0xFA, 0, isaSSE2, vI256}, PSUBQ: {"psubq", 0x66, 1, 0xFB, 0, isaSSE2, vI256},
	PSUBSB: {"psubsb", 0x66, 1, 0xE8, 0, isaSSE2, vI256}, PSUBSW: {"psubsw", 0x66, 1, 0xE9, 0, isaSSE2, vI256},
	PSUBUSB: {"psubusb", 0x66, 1, 0xD8, 0, isaSSE2, vI256}, PSUBUSW: {"psubusw", 0x66, 1, 0xD9, 0, isaSSE2, vI256},
	PMULLW: {"pmullw", 0x66, 1, 0xD5, 0, isaSSE2, vI256}, PMULHW: {"pmulhw", 0x66, 1, 0xE5, 0, isaSSE2, vI256},
	PMULHUW: {"pmulhuw", 0x66, 1, 0xE4, 0, isaSSE2, vI256}, PMULUDQ: {"pmuludq", 0x66, 1, 0xF4, 0, isaSSE2, vI256},
	PMADDWD: {"pmaddwd", 0x66, 1, 0xF5, 0, isaSSE2, vI256},
	PAND:    {"pand", 0x66, 1, 0xDB, 0, isaSSE2, vI256}, PANDN: {"pandn", 0x66, 1, 0xDF, 0, isaSSE2, vI256},
	POR: {"por", 0x66, 1, 0xEB, 0, isaSSE2, vI256}, PXOR: {"pxor", 0x66, 1, 0xEF, 0, isaSSE2, vI256},
	PCMPEQB: {"pcmpeqb", 0x66, 1, 0x74, 0, isaSSE2, vI256}, PCMPEQW: {"pcmpeqw", 0x66, 1, 0x75, 0, isaSSE2, vI256},
	PCMPEQD: {"pcmpeqd", 0x66, 1, 0x76, 0, isaSSE2, vI256}, PCMPGTB: {"pcmpgtb", 0x66, 1, 0x64, 0, isaSSE2, vI256},
	PCMPGTW: {"pcmpgtw", 0x66, 1, 0x65, 0, isaSSE2, vI256}, PCMPGTD: {"pcmpgtd", 0x66, 1, 0x66, 0, isaSSE2, vI256},
	PMINUB: {"pminub", 0x66, 1, 0xDA, 0, isaSSE2, vI256}, PMAXUB: {"pmaxub", 0x66, 1, 0xDE, 0, isaSSE2, vI256},
	PMINSW: {"pminsw", 0x66, 1, 0xEA, 0, isaSSE2, vI256}, PMAXSW: {"pmaxsw", 0x66, 1, 0xEE, 0, isaSSE2, vI256},
	PAVGB: {"pavgb", 0x66, 1, 0xE0, 0, isaSSE2, vI256}, PAVGW: {"pavgw", 0x66, 1, 0xE3, 0, isaSSE2, vI256},
	PSLLW: {"psllw", 0x66, 1, 0xF1, 0, isaSSE2, vI256 | vSrc2X}, PSLLD: {"pslld", 0x66, 1, 0xF2, 0, isaSSE2, vI256 | vSrc2X},
	PSLLQ: {"psllq", 0x66, 1, 0xF3, 0, isaSSE2, vI256 | vSrc2X}, PSRLW: {"psrlw", 0x66, 1, 0xD1, 0, isaSSE2, vI256 | vSrc2X},
	PSRLD: {"psrld", 0x66, 1, 0xD2, 0, isaSSE2, vI256 | vSrc2X}, PSRLQ: {"psrlq", 0x66, 1, 0xD3, 0, isaSSE2, vI256 | vSrc2X},
	PSRAW: {"psraw", 0x66, 1, 0xE1, 0, isaSSE2, vI256 | vSrc2X}, PSRAD: {"psrad", 0x66, 1, 0xE2, 0, isaSSE2, vI256 | vSrc2X},
	PUNPCKLBW: {"punpcklbw", 0x66, 1, 0x60, 0, isaSSE2, vI256}, PUNPCKLWD: {"punpcklwd", 0x66, 1, 0x61, 0, isaSSE2, vI256},
	PUNPCKLDQ: {"punpckldq", 0x66, 1, 0x62, 0, isaSSE2, vI256}, PUNPCKLQDQ: {"punpcklqdq", 0x66, 1, 0x6C, 0, isaSSE2, vI256},
	PUNPCKHBW: {"punpckhbw", 0x66, 1, 0x68, 0, isaSSE2, vI256}, PUNPCKHWD: {"punpckhwd", 0x66, 1, 0x69, 0, isaSSE2, vI256},
	PUNPCKHDQ: {"punpckhdq", 0x66, 1, 0x6A, 0, isaSSE2, vI256}, PUNPCKHQDQ: {"punpckhqdq", 0x66, 1, 0x6D, 0, isaSSE2, vI256},
	PACKSSWB: {"packsswb", 0x66, 1, 0x63, 0, isaSSE2, vI256}, PACKSSDW: {"packssdw", 0x66, 1, 0x6B, 0, isaSSE2, vI256},
	PACKUSWB: {"packuswb", 0x66, 1, 0x67, 0, isaSSE2, vI256},
	PSHUFD:   {"pshufd", 0x66, 1, 0x70, 0, isaSSE2, vI256 | vUnary | vImm},
	PSHUFLW:  {"pshuflw", 0xF2, 1, 0x70, 0, isaSSE2, vI256 | vUnary | vImm},
	PSHUFHW:  {"pshufhw", 0xF3, 1, 0x70, 0, isaSSE2, vI256 | vUnary | vImm},

	ADDPS: {"addps", 0, 1, 0x58, 0, isaSSE2, 0}, ADDPD: {"addpd", 0x66, 1, 0x58, 0, isaSSE2, 0},
	SUBPS: {"subps", 0, 1, 0x5C, 0, isaSSE2, 0}, SUBPD: {"subpd", 0x66, 1, 0x5C, 0, isaSSE2, 0},
	MULPS: {"mulps", 0, 1, 0x59, 0, isaSSE2, 0}, MULPD: {"mulpd", 0x66, 1, 0x59, 0, isaSSE2, 0},
	DIVPS: {"divps", 0, 1, 0x5E, 0, isaSSE2, 0}, DIVPD: {"divpd", 0x66, 1, 0x5E, 0, isaSSE2, 0},
	SQRTPS: {"sqrtps", 0, 1, 0x51, 0, isaSSE2, vUnary}, SQRTPD: {"sqrtpd", 0x66, 1, 0x51, 0, isaSSE2, vUnary},
	MINPS: {"minps", 0, 1, 0x5D, 0, isaSSE2, 0}, MINPD: {"minpd", 0x66, 1, 0x5D, 0, isaSSE2, 0},
	MAXPS: {"maxps", 0, 1, 0x5F, 0, isaSSE2, 0}, MAXPD: {"maxpd", 0x66, 1, 0x5F, 0, isaSSE2, 0},
	CMPPS: {"cmpps", 0, 1, 0xC2, 0, isaSSE2, vImm}, CMPPD: {"cmppd", 0x66, 1, 0xC2, 0, isaSSE2, vImm},
	SHUFPS: {"shufps", 0, 1, 0xC6, 0, isaSSE2, vImm}, SHUFPD: {"shufpd", 0x66, 1, 0xC6, 0, isaSSE2, vImm},
	UNPCKLPS: {"unpcklps", 0, 1, 0x14, 0, isaSSE2, 0}, UNPCKHPS: {"unpckhps", 0, 1, 0x15, 0, isaSSE2, 0},
	UNPCKLPD: {"unpcklpd", 0x66, 1, 0x14, 0, isaSSE2, 0}, UNPCKHPD: {"unpckhpd", 0x66, 1, 0x15, 0, isaSSE2, 0},
	CVTDQ2PS:  {"cvtdq2ps", 0, 1, 0x5B, 0, isaSSE2, vUnary},
	CVTPS2DQ:  {"cvtps2dq", 0x66, 1, 0x5B, 0, isaSSE2, vUnary},
	CVTTPS2DQ: {"cvttps2dq", 0xF3, 1, 0x5B, 0, isaSSE2, vUnary},
	CVTPS2PD:  {"cvtps2pd", 0, 1, 0x5A, 0, isaSSE2, vUnary | vSrcX},
	CVTPD2PS:  {"cvtpd2ps", 0x66, 1, 0x5A, 0, isaSSE2, vUnary | vDstX},
	CVTDQ2PD:  {"cvtdq2pd", 0xF3, 1, 0xE6, 0, isaSSE2, vUnary | vSrcX},
	CVTTPD2DQ: {"cvttpd2dq", 0x66, 1, 0xE6, 0, isaSSE2, vUnary | vDstX},

	MOVDQU:  {"movdqu", 0xF3, 1, 0x6F, 0x7F, isaSSE2, vUnary},
	MOVDQA:  {"movdqa", 0x66, 1, 0x6F, 0x7F, isaSSE2, vUnary},
	MOVUPS:  {"movups", 0, 1, 0x10, 0x11, isaSSE2, vUnary},
	MOVQ:    {"movq", 0xF3, 1, 0x7E, 0xD6, isaSSE2, vUnary | vNo256},
	MOVD:    {"movd", 0x66, 1, 0x6E, 0x7E, isaSSE2, vUnary | vNo256 | vMemOnly},
	MOVHLPS: {"movhlps", 0, 1, 0x12, 0, isaSSE2, vNo256 | vRegOnly},
	MOVLHPS: {"movlhps", 0, 1, 0x16, 0, isaSSE2, vNo256 | vRegOnly},

	MOVDDUP:  {"movddup", 0xF2, 1, 0x12, 0, isaSSE3, vUnary},
	MOVSLDUP: {"movsldup", 0xF3, 1, 0x12, 0, isaSSE3, vUnary},
	MOVSHDUP: {"movshdup", 0xF3, 1, 0x16, 0, isaSSE3, vUnary},

	PSHUFB: {"pshufb", 0x66, 2, 0x00, 0, isaSSSE3, vI256},
	PABSB:  {"pabsb", 0x66, 2, 0x1C, 0, isaSSSE3, vI256 | vUnary}, PABSW: {"pabsw", 0x66, 2, 0x1D, 0, isaSSSE3, vI256 | vUnary},
	PABSD:     {"pabsd", 0x66, 2, 0x1E, 0, isaSSSE3, vI256 | vUnary},
	PMULHRSW:  {"pmulhrsw", 0x66, 2, 0x0B, 0, isaSSSE3, vI256},
	PMADDUBSW: {"pmaddubsw", 0x66, 2, 0x04, 0, isaSSSE3, vI256},
	PALIGNR:   {"palignr", 0x66, 3, 0x0F, 0, isaSSSE3, vI256 | vImm},

	PMULLD: {"pmulld", 0x66, 2, 0x40, 0, isaSSE41, vI256}, PMULDQ: {"pmuldq", 0x66, 2, 0x28, 0, isaSSE41, vI256},
	PMINSB: {"pminsb", 0x66, 2, 0x38, 0, isaSSE41, vI256}, PMINSD: {"pminsd", 0x66, 2, 0x39, 0, isaSSE41, vI256},
	PMINUW: {"pminuw", 0x66, 2, 0x3A, 0, isaSSE41, vI256}, PMINUD: {"pminud", 0x66, 2, 0x3B, 0, isaSSE41, vI256},
	PMAXSB: {"pmaxsb", 0x66, 2, 0x3C, 0, isaSSE41, vI256}, PMAXSD: {"pmaxsd", 0x66, 2, 0x3D, 0, isaSSE41, vI256},
	PMAXUW: {"pmaxuw", 0x66, 2, 0x3E, 0, isaSSE41, vI256}, PMAXUD: {"pmaxud", 0x66, 2, 0x3F, 0, isaSSE41, vI256},
	PCMPEQQ: {"pcmpeqq", 0x66, 2, 0x29, 0, isaSSE41, vI256}, PACKUSDW: {"packusdw", 0x66, 2, 0x2B, 0, isaSSE41, vI256},
	PTEST:    {"ptest", 0x66, 2, 0x17, 0, isaSSE41, vUnary},
	PMOVSXBW: {"pmovsxbw", 0x66, 2, 0x20, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVSXBD: {"pmovsxbd", 0x66, 2, 0x21, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVSXBQ: {"pmovsxbq", 0x66, 2, 0x22, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVSXWD: {"pmovsxwd", 0x66, 2, 0x23, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVSXWQ: {"pmovsxwq", 0x66, 2, 0x24, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVSXDQ: {"pmovsxdq", 0x66, 2, 0x25, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVZXBW: {"pmovzxbw", 0x66, 2, 0x30, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVZXBD: {"pmovzxbd", 0x66, 2, 0x31, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVZXBQ: {"pmovzxbq", 0x66, 2, 0x32, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVZXWD: {"pmovzxwd", 0x66, 2, 0x33, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVZXWQ: {"pmovzxwq", 0x66, 2, 0x34, 0, isaSSE41, vI256 | vUnary | vSrcX},
	PMOVZXDQ: {"pmovzxdq", 0x66, 2, 0x35, 0, isaSSE41, vI256 | vUnary | vSrcX},
	ROUNDPS:  {"roundps", 0x66, 3, 0x08, 0, isaSSE41, vUnary | vImm},
	ROUNDPD:  {"roundpd", 0x66, 3, 0x09, 0, isaSSE41, vUnary | vImm},
	PBLENDW:  {"pblendw", 0x66, 3, 0x0E, 0, isaSSE41, vI256 | vImm},
	BLENDPS:  {"blendps", 0x66, 3, 0x0C, 0, isaSSE41, vImm},
	BLENDPD:  {"blendpd", 0x66, 3, 0x0D, 0, isaSSE41, vImm},
	INSERTPS: {"insertps", 0x66, 3, 0x21, 0, isaSSE41, vImm | vNo256},

	PCMPGTQ: {"pcmpgtq", 0x66, 2, 0x37, 0, isaSSE42, vI256},

	VPERMQ:       {"vpermq", 0x66, 3, 0x00, 0, cpu.X86AVX2, vVEXOnly | vUnary | vImm | vOnly256 | vW1},
	VPERMD:       {"vpermd", 0x66, 2, 0x36, 0, cpu.X86AVX2, vVEXOnly | vOnly256},
	VPBROADCASTB: {"vpbroadcastb", 0x66, 2, 0x78, 0, cpu.X86AVX2, vVEXOnly | vUnary | vSrcX},
	VPBROADCASTW: {"vpbroadcastw", 0x66, 2, 0x79, 0, cpu.X86AVX2, vVEXOnly | vUnary | vSrcX},
	VPBROADCASTD: {"vpbroadcastd", 0x66, 2, 0x58, 0, cpu.X86AVX2, vVEXOnly | vUnary | vSrcX},
	VPBROADCASTQ: {"vpbroadcastq", 0x66, 2, 0x59, 0, cpu.X86AVX2, vVEXOnly | vUnary | vSrcX},
	VINSERTI128:  {"vinserti128", 0x66, 3, 0x38, 0, cpu.X86AVX2, vVEXOnly | vImm | vOnly256 | vSrc2X},
	VINSERTF128:  {"vinsertf128", 0x66, 3, 0x18, 0, cpu.X86AVX, vVEXOnly | vImm | vOnly256 | vSrc2X},
	VFMADD231PS:  {"vfmadd231ps", 0x66, 2, 0xB8, 0, cpu.X86FMA, vVEXOnly},
	VFMADD231PD:  {"vfmadd231pd", 0x66, 2, 0xB8, 0, cpu.X86FMA, vVEXOnly | vW1},
	VFNMADD231PS: {"vfnmadd231ps", 0x66, 2, 0xBC, 0, cpu.X86FMA, vVEXOnly},
	VFNMADD231PD: {"vfnmadd231pd", 0x66, 2, 0xBC, 0, cpu.X86FMA, vVEXOnly | vW1},
	VCVTPH2PS:    {"vcvtph2ps", 0x66, 2, 0x13, 0, cpu.X86F16C, vVEXOnly | vUnary | vSrcX},
}

// legacyOp is the opcode bytes after the mandatory prefix.
func (f *vecForm) legacyOp() opc {
	switch f.mp {
	case 2:
		return op3(0x0F, 0x38, f.op)
	case 3:
		return op3(0x0F, 0x3A, f.op)
	}
	return op2(0x0F, f.op)
}

// vecFeat holds one single-feature set per feature a vector form can
// record, so that recording one allocates and computes nothing.
var vecFeat = func() (t [cpu.X86AVXVNNI + 1]cpu.Set) {
	for f := range t {
		t[f] = cpu.NewSet(cpu.Feature(f))
	}
	return t
}()

// vecLegacy validates op for a legacy form: imm says whether the caller
// passes an immediate, mem whether the rm operand is memory.
func (a *Asm) vecLegacy(op VecOp, imm, mem bool) (*vecForm, bool) {
	if a.err != nil {
		return nil, false
	}
	if op >= vecEnd {
		a.fail("vector operation %d", op)
		return nil, false
	}
	f := &vecForms[op]
	switch {
	case f.flags&vVEXOnly != 0:
		a.fail("%s has only a VEX form", f.name)
	case imm != (f.flags&vImm != 0):
		a.failImm(f.name, imm)
	case mem && f.flags&vRegOnly != 0:
		a.fail("%s has no memory form", f.name)
	case !mem && f.flags&vMemOnly != 0:
		a.fail("%s has no register form", f.name)
	default:
		return f, true
	}
	return nil, false
}

// Vec emits op dst, src (legacy SSE encoding; dst is also the first
// source of binary operations).
func (a *Asm) Vec(op VecOp, dst, src XReg) {
	if f, ok := a.vecLegacy(op, false, false); ok && a.rr(f.pfx, false, false, f.legacyOp(), byte(dst), byte(src)) {
		a.need(vecFeat[f.feat])
	}
}

// VecLoad emits op dst, [m].
func (a *Asm) VecLoad(op VecOp, dst XReg, m Mem) {
	if f, ok := a.vecLegacy(op, false, true); ok && a.rm(f.pfx, false, false, f.legacyOp(), byte(dst), m) {
		a.need(vecFeat[f.feat])
	}
}

// VecImm emits op dst, src, imm for the forms with an immediate (PSHUFD,
// SHUFPS, CMPPS, ROUNDPS, PALIGNR, PBLENDW, INSERTPS …).
func (a *Asm) VecImm(op VecOp, dst, src XReg, imm uint8) {
	if f, ok := a.vecLegacy(op, true, false); ok && a.vecImmOK(f, imm, false) && a.rr(f.pfx, false, false, f.legacyOp(), byte(dst), byte(src)) {
		a.imm8(int8(imm))
		a.need(vecFeat[f.feat])
	}
}

// VecLoadImm emits op dst, [m], imm.
func (a *Asm) VecLoadImm(op VecOp, dst XReg, m Mem, imm uint8) {
	if f, ok := a.vecLegacy(op, true, true); ok && a.vecImmOK(f, imm, false) && a.rm(f.pfx, false, false, f.legacyOp(), byte(dst), m) {
		a.imm8(int8(imm))
		a.need(vecFeat[f.feat])
	}
}

// vecImmOK refuses immediates whose reserved bits would select a
// different operation: CMPPS/CMPPD take the eight SSE predicates (VEX
// adds 24 more), ROUNDPS/PD a four-bit mode.
func (a *Asm) vecImmOK(f *vecForm, imm uint8, vex bool) bool {
	preds := uint8(CmpORD)
	if vex {
		preds = 31
	}
	switch {
	case (f.op == 0xC2 && f.mp == 1) && imm > preds:
		a.fail("%s: comparison predicate %d", f.name, imm)
		return false
	case (f.mp == 3 && (f.op == 0x08 || f.op == 0x09)) && imm > 0xF:
		a.fail("%s: rounding mode %#x", f.name, imm)
		return false
	}
	return true
}

// VecStore emits op [m], src for the moves with a store form: MOVDQU,
// MOVDQA, MOVUPS, MOVQ (8 bytes) and MOVD (4 bytes).
func (a *Asm) VecStore(op VecOp, m Mem, src XReg) {
	f, ok := a.vecLegacy(op, false, true)
	if !ok {
		return
	}
	if f.st == 0 {
		a.fail("%s has no store form", f.name)
		return
	}
	pfx, o := f.pfx, op2(0x0F, f.st)
	if op == MOVQ {
		pfx = 0x66 // MOVQ's store is 66 0F D6, its load F3 0F 7E
	}
	if a.rm(pfx, false, false, o, byte(src), m) {
		a.need(vecFeat[f.feat])
	}
}

// VecShift is a lane shift by an immediate count (group 12-14 opcodes):
// the word, dword and qword shifts, and the whole-register byte shifts
// PSLLDQ/PSRLDQ.
type VecShift uint8

// Shifts by immediate.
const (
	PSLLWi VecShift = iota
	PSLLDi
	PSLLQi
	PSRLWi
	PSRLDi
	PSRLQi
	PSRAWi
	PSRADi
	PSLLDQi
	PSRLDQi
	vecShiftEnd
)

// vecShifts gives the opcode after 0F and the ModRM.reg extension.
var vecShifts = [vecShiftEnd]struct {
	name    string
	op, ext byte
}{
	PSLLWi: {"psllw", 0x71, 6}, PSLLDi: {"pslld", 0x72, 6}, PSLLQi: {"psllq", 0x73, 6},
	PSRLWi: {"psrlw", 0x71, 2}, PSRLDi: {"psrld", 0x72, 2}, PSRLQi: {"psrlq", 0x73, 2},
	PSRAWi: {"psraw", 0x71, 4}, PSRADi: {"psrad", 0x72, 4},
	PSLLDQi: {"pslldq", 0x73, 7}, PSRLDQi: {"psrldq", 0x73, 3},
}

func (a *Asm) vecShiftOK(op VecShift) bool {
	if op >= vecShiftEnd {
		a.fail("vector shift %d", op)
		return false
	}
	return true
}

// VecShiftImm emits op dst, n (isaSSE2). Counts at or above the lane width
// are legal and give zero (or the sign for PSRA), which is not
// WebAssembly's modulo rule: the compiler masks the count first.
func (a *Asm) VecShiftImm(op VecShift, dst XReg, n uint8) {
	if a.err == nil && a.vecShiftOK(op) {
		s := vecShifts[op]
		if a.rr(0x66, false, false, op2(0x0F, s.op), s.ext, byte(dst)) {
			a.imm8(int8(n))
			a.need(featSSE2)
		}
	}
}

// BlendvOp is a variable blend: each lane comes from src where the mask
// lane's top bit is set, from dst otherwise.
type BlendvOp uint8

// Variable blends.
const (
	PBLENDVB BlendvOp = iota
	BLENDVPS
	BLENDVPD
	blendvEnd
)

// blendvForms: the legacy opcode in 0F38 (mask implicitly XMM0) and the
// VEX opcode in 0F3A (mask in imm8[7:4]); VPBLENDVB at 256 bits is AVX2.
var blendvForms = [blendvEnd]struct {
	name       string
	legacy, vx byte
}{
	PBLENDVB: {"pblendvb", 0x10, 0x4C},
	BLENDVPS: {"blendvps", 0x14, 0x4A},
	BLENDVPD: {"blendvpd", 0x15, 0x4B},
}

// Blendv emits op dst, src with the implicit mask XMM0 (isaSSE41): the
// register allocator must have put the mask there.
func (a *Asm) Blendv(op BlendvOp, dst, src XReg) {
	if a.err != nil {
		return
	}
	if op >= blendvEnd {
		a.fail("blend operation %d", op)
		return
	}
	if a.rr(0x66, false, false, op3(0x0F, 0x38, blendvForms[op].legacy), byte(dst), byte(src)) {
		a.need(featSSE41)
	}
}

// laneForm is one lane width's PEXTR or PINSR: opcode map, opcode,
// whether REX.W (VEX.W) is set, the lane count and the feature.
type laneForm struct {
	mp, op byte
	wide   bool
	lanes  uint8
	feat   cpu.Feature
}

func laneIndex(w Width) int {
	switch w {
	case W8:
		return 0
	case W16:
		return 1
	case W32:
		return 2
	case W64:
		return 3
	}
	return -1
}

// pextrForms and pinsrForms are indexed by laneIndex. PEXTRW has two
// forms: the SSE2 one (0F C5) has only a register destination and puts
// it in ModRM.reg, so Pextr uses it for registers and PextrStore the
// SSE4.1 one (0F3A 15).
var (
	pextrForms = [4]laneForm{{3, 0x14, false, 16, isaSSE41}, {3, 0x15, false, 8, isaSSE41}, {3, 0x16, false, 4, isaSSE41}, {3, 0x16, true, 2, isaSSE41}}
	pinsrForms = [4]laneForm{{3, 0x20, false, 16, isaSSE41}, {1, 0xC4, false, 8, isaSSE2}, {3, 0x22, false, 4, isaSSE41}, {3, 0x22, true, 2, isaSSE41}}
)

func (a *Asm) laneOK(forms *[4]laneForm, w Width, lane uint8) (laneForm, bool) {
	if a.err != nil {
		return laneForm{}, false
	}
	i := laneIndex(w)
	if i < 0 {
		a.fail("lane width %d", w)
		return laneForm{}, false
	}
	f := forms[i]
	if lane >= f.lanes {
		a.fail("lane %d of %d", lane, f.lanes)
		return laneForm{}, false
	}
	return f, true
}

func (f laneForm) opc() opc {
	if f.mp == 1 {
		return op2(0x0F, f.op)
	}
	return op3(0x0F, 0x3A, f.op)
}

// Pextr emits PEXTRB/W/D/Q dst, src, lane: lane of w bytes, zero-extended
// into dst (a 32-bit register for B/W/D).
func (a *Asm) Pextr(w Width, dst Reg, src XReg, lane uint8) {
	f, ok := a.laneOK(&pextrForms, w, lane)
	if !ok {
		return
	}
	if w == W16 {
		// The two-byte SSE2 form, reg = destination.
		if a.rr(0x66, false, false, op2(0x0F, 0xC5), byte(dst), byte(src)) {
			a.imm8(int8(lane))
			a.need(featSSE2)
		}
		return
	}
	if a.rr(0x66, f.wide, false, f.opc(), byte(src), byte(dst)) {
		a.imm8(int8(lane))
		a.need(vecFeat[f.feat])
	}
}

// PextrStore emits PEXTRB/W/D/Q [m], src, lane: v128.storeN_lane.
func (a *Asm) PextrStore(w Width, m Mem, src XReg, lane uint8) {
	if f, ok := a.laneOK(&pextrForms, w, lane); ok && a.rm(0x66, f.wide, false, f.opc(), byte(src), m) {
		a.imm8(int8(lane))
		a.need(vecFeat[f.feat])
	}
}

// Pinsr emits PINSRB/W/D/Q dst, src, lane: replaces one lane with the
// low w bytes of src.
func (a *Asm) Pinsr(w Width, dst XReg, src Reg, lane uint8) {
	if f, ok := a.laneOK(&pinsrForms, w, lane); ok && a.rr(0x66, f.wide, false, f.opc(), byte(dst), byte(src)) {
		a.imm8(int8(lane))
		a.need(vecFeat[f.feat])
	}
}

// PinsrLoad emits PINSRB/W/D/Q dst, [m], lane: v128.loadN_lane.
func (a *Asm) PinsrLoad(w Width, dst XReg, m Mem, lane uint8) {
	if f, ok := a.laneOK(&pinsrForms, w, lane); ok && a.rm(0x66, f.wide, false, f.opc(), byte(dst), m) {
		a.imm8(int8(lane))
		a.need(vecFeat[f.feat])
	}
}

// MovmskOp gathers the top bit of each lane into a GPR (bitmask,
// all_true with a compare first).
type MovmskOp uint8

// Mask extractions.
const (
	PMOVMSKB MovmskOp = iota
	MOVMSKPS
	MOVMSKPD
	movmskEnd
)

var movmskForms = [movmskEnd]struct {
	name    string
	pfx, op byte
}{PMOVMSKB: {"pmovmskb", 0x66, 0xD7}, MOVMSKPS: {"movmskps", 0, 0x50}, MOVMSKPD: {"movmskpd", 0x66, 0x50}}

// Movmsk emits op dst, src (isaSSE2); dst is written as a 32-bit register.
func (a *Asm) Movmsk(op MovmskOp, dst Reg, src XReg) {
	if a.err != nil {
		return
	}
	if op >= movmskEnd {
		a.fail("mask operation %d", op)
		return
	}
	f := movmskForms[op]
	if a.rr(f.pfx, false, false, op2(0x0F, f.op), byte(dst), byte(src)) {
		a.need(featSSE2)
	}
}

// failImm reports a call that passes an immediate to a form without one,
// or none to a form that needs one.
func (a *Asm) failImm(name string, given bool) {
	if given {
		a.fail("%s takes no immediate", name)
	} else {
		a.fail("%s needs an immediate", name)
	}
}
