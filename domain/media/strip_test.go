package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"
)

func picture() *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, 8, 6))
	for x := 0; x < 8; x++ {
		for y := 0; y < 6; y++ {
			img.Set(x, y, color.RGBA{uint8(30 * x), uint8(40 * y), 200, 255})
		}
	}
	return img
}

// exifWithGPS is an APP1 EXIF segment (little-endian) holding Orientation 6,
// a camera model and a GPS latitude reference, as phones write them.
func exifWithGPS() []byte {
	tiff := []byte{'I', 'I', 42, 0, 8, 0, 0, 0}
	entry := func(tag, typ uint16, count uint32, value []byte) []byte {
		e := make([]byte, 12)
		binary.LittleEndian.PutUint16(e, tag)
		binary.LittleEndian.PutUint16(e[2:], typ)
		binary.LittleEndian.PutUint32(e[4:], count)
		copy(e[8:], value)
		return e
	}
	ifd := []byte{3, 0}
	ifd = append(ifd, entry(0x0110, 2, 4, []byte("GPS\x00"))...)  // Model, inline
	ifd = append(ifd, entry(0x0112, 3, 1, []byte{6, 0})...)       // Orientation 6
	ifd = append(ifd, entry(0x8825, 4, 1, []byte{0, 0, 0, 0})...) // GPS IFD pointer
	ifd = append(ifd, 0, 0, 0, 0)
	body := append([]byte("Exif\x00\x00"), append(tiff, ifd...)...)
	body = append(body, []byte("GPSLatitude 51.05N secret")...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(body)+2))
	return append(seg, body...)
}

func TestStripJPEGDropsEXIFKeepsOrientation(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, jpeg.Encode(&buf, picture(), nil))
	raw := buf.Bytes()
	comment := []byte{0xFF, 0xFE, 0, 9, 'h', 'o', 'm', 'e', '!', '!', '!'}
	withMeta := append(append(append([]byte{}, raw[:2]...), append(exifWithGPS(), comment...)...), raw[2:]...)
	require.Contains(t, string(withMeta), "GPSLatitude")

	out, err := Strip(withMeta, ".jpg")
	require.NoError(t, err)
	require.NotContains(t, string(out), "GPSLatitude")
	require.NotContains(t, string(out), "secret")
	require.NotContains(t, string(out), "home!!!")
	require.EqualValues(t, 6, exifOrientation(findAPP1(t, out)), "the orientation survives")
	img, err := jpeg.Decode(bytes.NewReader(out))
	require.NoError(t, err, "the stripped file is still a JPEG")
	require.Equal(t, image.Rect(0, 0, 8, 6), img.Bounds())

	// A JPEG without metadata comes out as it went in.
	plain, err := Strip(raw, ".jpg")
	require.NoError(t, err)
	require.Equal(t, raw, plain)

	_, err = Strip([]byte{0xFF, 0xD8, 0xFF, 0xE1, 0xFF}, ".jpg")
	require.Error(t, err, "a truncated segment is refused")
}

func findAPP1(t *testing.T, data []byte) []byte {
	t.Helper()
	for i := 2; i+4 < len(data); {
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		if data[i+1] == 0xE1 {
			return data[i+4 : i+2+n]
		}
		if data[i+1] == 0xDA {
			break
		}
		i += 2 + n
	}
	t.Fatal("no APP1 segment")
	return nil
}

func TestStripPNGDropsText(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, png.Encode(&buf, picture()))
	raw := buf.Bytes()
	chunk := func(typ string, data []byte) []byte {
		c := make([]byte, 8, 12+len(data))
		binary.BigEndian.PutUint32(c, uint32(len(data)))
		copy(c[4:], typ)
		c = append(c, data...)
		return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(c[4:]))
	}
	// After IHDR (8-byte signature + 25-byte chunk).
	meta := append(chunk("tEXt", []byte("Comment\x00taken at 12 Rue X")), chunk("eXIf", []byte("MM\x00*GPS"))...)
	withMeta := append(append(append([]byte{}, raw[:33]...), meta...), raw[33:]...)
	_, err := png.Decode(bytes.NewReader(withMeta))
	require.NoError(t, err)

	out, err := Strip(withMeta, ".png")
	require.NoError(t, err)
	require.NotContains(t, string(out), "Rue X")
	require.NotContains(t, string(out), "eXIf")
	require.Equal(t, raw, out)
}
