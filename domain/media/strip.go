package media

import (
	"bytes"
	"encoding/binary"
	"errors"
)

// Strip returns the image without the metadata people do not know they
// publish: EXIF (with its GPS position, camera serial and time), XMP, IPTC,
// comments and PNG text chunks. What decides how the picture looks stays:
// JPEG's JFIF, ICC profile and Adobe colour segments, PNG's colour chunks,
// and a JPEG's orientation, kept as a minimal EXIF block of that one tag.
// ext is ".jpg" or ".png", as CheckImage returned it.
func Strip(data []byte, ext string) ([]byte, error) {
	switch ext {
	case ".jpg":
		return stripJPEG(data)
	case ".png":
		return stripPNG(data)
	}
	return nil, errors.New("strip: unknown image type " + ext)
}

var errCorrupt = errors.New("strip: corrupt image")

// JPEG markers kept before the scan: APP0 (JFIF), APP2 (ICC profile),
// APP14 (Adobe colour transform); everything else that is not an APPn or a
// comment is image structure (tables, frame header) and kept too.
func keepJPEGSegment(marker byte) bool {
	switch {
	case marker == 0xE0, marker == 0xE2, marker == 0xEE:
		return true
	case marker >= 0xE0 && marker <= 0xEF, marker == 0xFE:
		return false // other application segments (EXIF, XMP, IPTC, ...) and comments
	}
	return true
}

func stripJPEG(data []byte) ([]byte, error) {
	if len(data) < 4 || data[0] != 0xFF || data[1] != 0xD8 {
		return nil, errCorrupt
	}
	out := bytes.NewBuffer(make([]byte, 0, len(data)))
	out.Write(data[:2])
	orientation := uint16(0)
	i := 2
	for {
		// Fill bytes (0xFF) may precede a marker.
		for i < len(data) && data[i] == 0xFF && i+1 < len(data) && data[i+1] == 0xFF {
			i++
		}
		if i+4 > len(data) || data[i] != 0xFF {
			return nil, errCorrupt
		}
		marker := data[i+1]
		if marker == 0xD9 { // EOI without a scan
			out.Write(data[i : i+2])
			return out.Bytes(), nil
		}
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if n < 2 || i+2+n > len(data) {
			return nil, errCorrupt
		}
		seg := data[i : i+2+n]
		if marker == 0xE1 && orientation == 0 {
			orientation = exifOrientation(seg[4:])
		}
		if marker == 0xDA {
			// Start of scan: the entropy-coded data and everything after
			// it is the picture itself. Write the orientation before it.
			if orientation > 1 && orientation <= 8 {
				out.Write(orientationSegment(orientation))
			}
			out.Write(data[i:])
			return out.Bytes(), nil
		}
		if keepJPEGSegment(marker) {
			out.Write(seg)
		}
		i += 2 + n
	}
}

// exifOrientation reads the Orientation tag (0x0112) of IFD0 from an APP1
// payload, or 0 when there is none or the block is not EXIF.
func exifOrientation(p []byte) uint16 {
	if len(p) < 14 || string(p[:6]) != "Exif\x00\x00" {
		return 0
	}
	tiff := p[6:]
	var bo binary.ByteOrder
	switch string(tiff[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	off := int(bo.Uint32(tiff[4:]))
	if off < 8 || off+2 > len(tiff) {
		return 0
	}
	count := int(bo.Uint16(tiff[off:]))
	for k := 0; k < count; k++ {
		e := off + 2 + 12*k
		if e+12 > len(tiff) {
			return 0
		}
		if bo.Uint16(tiff[e:]) == 0x0112 && bo.Uint16(tiff[e+2:]) == 3 {
			return bo.Uint16(tiff[e+8:])
		}
	}
	return 0
}

// orientationSegment is an APP1 EXIF segment holding only Orientation.
func orientationSegment(o uint16) []byte {
	b := []byte{0xFF, 0xE1, 0, 0}
	b = append(b, "Exif\x00\x00"...)
	b = append(b, 'M', 'M', 0, 42, 0, 0, 0, 8) // big-endian TIFF, IFD0 at 8
	b = append(b, 0, 1)                        // one entry
	b = append(b, 0x01, 0x12, 0, 3, 0, 0, 0, 1, byte(o>>8), byte(o), 0, 0)
	b = append(b, 0, 0, 0, 0) // no next IFD
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)-2))
	return b
}

// PNG chunks kept: the picture and what decides its colours. Text (tEXt,
// zTXt, iTXt), EXIF (eXIf), times and private chunks go.
var keptPNGChunks = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true, "tRNS": true,
	"cHRM": true, "gAMA": true, "iCCP": true, "sBIT": true, "sRGB": true, "bKGD": true, "pHYs": true,
}

func stripPNG(data []byte) ([]byte, error) {
	const sig = "\x89PNG\r\n\x1a\n"
	if len(data) < len(sig) || string(data[:len(sig)]) != sig {
		return nil, errCorrupt
	}
	out := bytes.NewBuffer(make([]byte, 0, len(data)))
	out.WriteString(sig)
	for i := len(sig); i < len(data); {
		if i+12 > len(data) {
			return nil, errCorrupt
		}
		n := int(binary.BigEndian.Uint32(data[i:]))
		if n < 0 || n > len(data) || i+12+n > len(data) {
			return nil, errCorrupt
		}
		typ := string(data[i+4 : i+8])
		if keptPNGChunks[typ] {
			out.Write(data[i : i+12+n])
		}
		i += 12 + n
		if typ == "IEND" {
			break
		}
	}
	return out.Bytes(), nil
}
