#include "imageprobe.h"

#include <QtEndian>

#include <cstdlib>
#include <cstring>

namespace edgelens {

namespace {

class Bytes
{
public:
    explicit Bytes(const QByteArray &data)
        : m_data(reinterpret_cast<const uchar *>(data.constData()))
        , m_size(quint64(data.size()))
    {
    }

    bool has(quint64 offset, quint64 count) const { return offset <= m_size && count <= m_size - offset; }
    bool startsWith(quint64 offset, const char *text, quint64 count) const
    {
        return has(offset, count) && std::memcmp(m_data + offset, text, count) == 0;
    }
    uchar u8(quint64 offset) const { return m_data[offset]; }
    quint16 u16(quint64 offset, bool bigEndian) const
    {
        return bigEndian ? qFromBigEndian<quint16>(m_data + offset) : qFromLittleEndian<quint16>(m_data + offset);
    }
    quint32 u32(quint64 offset, bool bigEndian) const
    {
        return bigEndian ? qFromBigEndian<quint32>(m_data + offset) : qFromLittleEndian<quint32>(m_data + offset);
    }
    quint64 u64(quint64 offset, bool bigEndian) const
    {
        return bigEndian ? qFromBigEndian<quint64>(m_data + offset) : qFromLittleEndian<quint64>(m_data + offset);
    }
    quint64 size() const { return m_size; }

private:
    const uchar *m_data;
    quint64 m_size;
};

ImageInfo sized(const char *format, qint64 width, qint64 height)
{
    ImageInfo info;
    info.format = QLatin1String(format);
    if (width <= 0 || height <= 0 || width > 0x7FFFFFFF || height > 0x7FFFFFFF) {
        info.error = QStringLiteral("%1 header gives an invalid size %2x%3").arg(info.format).arg(width).arg(height);
        return info;
    }
    info.width = int(width);
    info.height = int(height);
    return info;
}

ImageInfo broken(const char *format, const QString &why)
{
    ImageInfo info;
    info.format = QLatin1String(format);
    info.error = QStringLiteral("%1 header: %2").arg(info.format, why);
    return info;
}

ImageInfo probeJpeg(const Bytes &b)
{
    quint64 pos = 2;
    while (b.has(pos, 2)) {
        if (b.u8(pos) != 0xFF)
            return broken("jpeg", QStringLiteral("expected a marker at byte %1").arg(pos));
        quint64 next = pos + 1;
        while (b.has(next, 1) && b.u8(next) == 0xFF) // fill bytes
            ++next;
        if (!b.has(next, 1))
            break;
        const uchar marker = b.u8(next);
        pos = next + 1;
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8))
            continue; // stand-alone markers carry no length
        if (marker == 0xD9 || marker == 0xDA)
            return broken("jpeg", QStringLiteral("no frame header before the image data"));
        if (!b.has(pos, 2))
            break;
        const quint16 length = b.u16(pos, true);
        if (length < 2)
            return broken("jpeg", QStringLiteral("segment length %1 at byte %2").arg(length).arg(pos));
        const bool startOfFrame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (startOfFrame) {
            if (!b.has(pos, 7))
                break;
            return sized("jpeg", b.u16(pos + 5, true), b.u16(pos + 3, true));
        }
        pos += length;
    }
    return broken("jpeg", QStringLiteral("truncated before the frame header"));
}

ImageInfo probePng(const Bytes &b)
{
    if (!b.has(8, 16) || !b.startsWith(12, "IHDR", 4))
        return broken("png", QStringLiteral("missing IHDR chunk"));
    return sized("png", b.u32(16, true), b.u32(20, true));
}

ImageInfo probeBmp(const Bytes &b)
{
    if (!b.has(14, 4))
        return broken("bmp", QStringLiteral("truncated file header"));
    const quint32 dibSize = b.u32(14, false);
    if (dibSize == 12) { // BITMAPCOREHEADER
        if (!b.has(18, 4))
            return broken("bmp", QStringLiteral("truncated core header"));
        return sized("bmp", b.u16(18, false), b.u16(20, false));
    }
    if (dibSize < 16 || !b.has(18, 8))
        return broken("bmp", QStringLiteral("unknown info header of %1 bytes").arg(dibSize));
    const qint32 width = qint32(b.u32(18, false));
    const qint32 height = qint32(b.u32(22, false)); // negative: stored top-down
    return sized("bmp", width, std::llabs(qint64(height)));
}

ImageInfo probeWebp(const Bytes &b)
{
    if (b.startsWith(12, "VP8 ", 4)) {
        if (!b.has(20, 10) || b.u8(23) != 0x9D || b.u8(24) != 0x01 || b.u8(25) != 0x2A)
            return broken("webp", QStringLiteral("bad VP8 frame header"));
        return sized("webp", b.u16(26, false) & 0x3FFF, b.u16(28, false) & 0x3FFF);
    }
    if (b.startsWith(12, "VP8L", 4)) {
        if (!b.has(20, 5) || b.u8(20) != 0x2F)
            return broken("webp", QStringLiteral("bad VP8L header"));
        const quint32 bits = b.u32(21, false);
        return sized("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
    }
    if (b.startsWith(12, "VP8X", 4)) {
        if (!b.has(24, 6))
            return broken("webp", QStringLiteral("truncated VP8X header"));
        const quint32 w = quint32(b.u8(24)) | quint32(b.u8(25)) << 8 | quint32(b.u8(26)) << 16;
        const quint32 h = quint32(b.u8(27)) | quint32(b.u8(28)) << 8 | quint32(b.u8(29)) << 16;
        return sized("webp", qint64(w) + 1, qint64(h) + 1);
    }
    return broken("webp", QStringLiteral("unknown first chunk"));
}

ImageInfo probeTiff(const Bytes &b)
{
    const bool be = b.u8(0) == 'M';
    if (!b.has(0, 8))
        return broken("tiff", QStringLiteral("truncated header"));
    const quint16 version = b.u16(2, be);
    const bool big = version == 43;
    if (version != 42 && !big)
        return broken("tiff", QStringLiteral("unknown version %1").arg(version));
    if (big && (!b.has(0, 16) || b.u16(4, be) != 8))
        return broken("tiff", QStringLiteral("bad BigTIFF header"));

    const quint64 ifd = big ? b.u64(8, be) : b.u32(4, be);
    const quint64 countSize = big ? 8 : 2;
    const quint64 entrySize = big ? 20 : 12;
    if (!b.has(ifd, countSize))
        return broken("tiff", QStringLiteral("first directory at %1 is outside the file").arg(ifd));
    const quint64 count = big ? b.u64(ifd, be) : b.u16(ifd, be);
    qint64 width = -1, height = -1;
    for (quint64 i = 0; i < count && (width < 0 || height < 0); ++i) {
        const quint64 entry = ifd + countSize + i * entrySize;
        if (!b.has(entry, entrySize))
            return broken("tiff", QStringLiteral("truncated directory"));
        const quint16 tag = b.u16(entry, be);
        if (tag != 256 && tag != 257)
            continue;
        const quint16 type = b.u16(entry + 2, be);
        const quint64 valueAt = entry + (big ? 12 : 8);
        qint64 value = -1;
        if (type == 3) // SHORT
            value = b.u16(valueAt, be);
        else if (type == 4) // LONG
            value = b.u32(valueAt, be);
        else if (type == 16 && big) // LONG8
            value = qint64(qMin<quint64>(b.u64(valueAt, be), quint64(1) << 40));
        else
            return broken("tiff", QStringLiteral("image size stored as type %1").arg(type));
        (tag == 256 ? width : height) = value;
    }
    if (width < 0 || height < 0)
        return broken("tiff", QStringLiteral("no ImageWidth/ImageLength in the first directory"));
    return sized("tiff", width, height);
}

} // namespace

ImageInfo ImageProbe::probe(const QByteArray &encoded)
{
    const Bytes b(encoded);
    if (b.startsWith(0, "\xFF\xD8\xFF", 3))
        return probeJpeg(b);
    if (b.startsWith(0, "\x89PNG\r\n\x1A\n", 8))
        return probePng(b);
    if (b.startsWith(0, "BM", 2))
        return probeBmp(b);
    if (b.startsWith(0, "RIFF", 4) && b.startsWith(8, "WEBP", 4))
        return probeWebp(b);
    if (b.startsWith(0, "II", 2) || b.startsWith(0, "MM", 2)) {
        if (b.has(0, 4) && (b.u16(2, b.u8(0) == 'M') == 42 || b.u16(2, b.u8(0) == 'M') == 43))
            return probeTiff(b);
    }
    ImageInfo info;
    info.error = encoded.isEmpty() ? QStringLiteral("empty image")
                                   : QStringLiteral("not a %1 image").arg(supportedFormats());
    return info;
}

QString ImageProbe::supportedFormats()
{
    return QStringLiteral("JPEG, PNG, BMP, WebP or TIFF");
}

} // namespace edgelens
