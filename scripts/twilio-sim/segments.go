package main

import (
	"strings"
	"unicode/utf16"
)

// The GSM 03.38 default alphabet (one septet each) and its extension table
// (an escape plus one septet each). A text with any other character goes as
// UCS-2.
const (
	gsmBasic     = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtension = "^{}\\[~]|€\f"
)

// numSegments is how many SMS parts a body of this length travels in, the
// NumSegments Twilio reports: 160 GSM-7 septets or 70 UCS-2 units in one
// part, 153 or 67 per part once it is split. Azerbaijani (ə, ş, ğ, ı) and
// Russian text goes as UCS-2.
func numSegments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			septets++
		case strings.ContainsRune(gsmExtension, r):
			septets += 2
		default:
			gsm = false
		}
	}
	units, single, multi := septets, 160, 153
	if !gsm {
		units, single, multi = len(utf16.Encode([]rune(body))), 70, 67
	}
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}
