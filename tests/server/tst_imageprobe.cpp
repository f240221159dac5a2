#include "net/imageprobe.h"

#include <QDir>
#include <QFile>
#include <QTest>
#include <QtEndian>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace edgelens;

namespace {

QByteArray encode(const char *extension, int width, int height, int type = CV_8UC3)
{
    cv::Mat image(height, width, type, cv::Scalar(40, 90, 200));
    cv::line(image, {0, 0}, {width - 1, height - 1}, cv::Scalar(255, 255, 255), 3);
    std::vector<uchar> bytes;
    if (!cv::imencode(extension, image, bytes))
        return {};
    return QByteArray(reinterpret_cast<const char *>(bytes.data()), qsizetype(bytes.size()));
}

QByteArray pngHeaderClaiming(quint32 width, quint32 height)
{
    QByteArray png = QByteArray::fromHex("89504e470d0a1a0a 0000000d 49484452");
    QByteArray size(8, '\0');
    qToBigEndian(width, size.data());
    qToBigEndian(height, size.data() + 4);
    return png + size + QByteArray::fromHex("0806000000 00000000");
}

} // namespace

class TestImageProbe : public QObject
{
    Q_OBJECT

private slots:
    void encodedImages_reportTheirSize_data()
    {
        QTest::addColumn<QString>("extension");
        QTest::addColumn<QString>("format");
        QTest::addColumn<int>("width");
        QTest::addColumn<int>("height");
        QTest::addColumn<int>("type");
        const QList<std::tuple<const char *, const char *>> formats = {
            {".jpg", "jpeg"}, {".png", "png"}, {".bmp", "bmp"}, {".webp", "webp"}, {".tiff", "tiff"}};
        for (const auto &[ext, format] : formats) {
            QTest::addRow("%s 640x480", format) << ext << format << 640 << 480 << int(CV_8UC3);
            QTest::addRow("%s 1x1", format) << ext << format << 1 << 1 << int(CV_8UC3);
            QTest::addRow("%s 333x77 gray", format) << ext << format << 333 << 77 << int(CV_8UC1);
        }
        // WebP lossless (VP8L) and a size that needs the full 14 bits.
        QTest::addRow("webp 16383x2") << ".webp" << "webp" << 16383 << 2 << int(CV_8UC3);
    }

    void encodedImages_reportTheirSize()
    {
        QFETCH(QString, extension);
        QFETCH(QString, format);
        QFETCH(int, width);
        QFETCH(int, height);
        QFETCH(int, type);
        const QByteArray bytes = encode(qPrintable(extension), width, height, type);
        QVERIFY2(!bytes.isEmpty(), "OpenCV could not encode the test image");
        const ImageInfo info = ImageProbe::probe(bytes);
        QVERIFY2(info.isValid(), qPrintable(info.error));
        QCOMPARE(info.format, format);
        QCOMPARE(info.width, width);
        QCOMPARE(info.height, height);
    }

    void losslessWebp_isReadFromItsVp8lHeader()
    {
        cv::Mat image(123, 45, CV_8UC3, cv::Scalar(1, 2, 3));
        std::vector<uchar> bytes;
        QVERIFY(cv::imencode(".webp", image, bytes, {cv::IMWRITE_WEBP_QUALITY, 101})); // > 100: lossless
        const QByteArray data(reinterpret_cast<const char *>(bytes.data()), qsizetype(bytes.size()));
        QCOMPARE(data.mid(12, 4), QByteArray("VP8L"));
        const ImageInfo info = ImageProbe::probe(data);
        QCOMPARE(info.width, 45);
        QCOMPARE(info.height, 123);
    }

    void sampleImages_matchWhatOpenCvDecodes()
    {
        const QDir samples(qEnvironmentVariable("EDGELENS_SHARED_DIR") + QStringLiteral("/data/samples"));
        const QStringList files = samples.entryList({QStringLiteral("*.jpg")}, QDir::Files);
        QVERIFY2(files.size() >= 9, qPrintable(samples.absolutePath()));
        for (const QString &name : files) {
            QFile file(samples.filePath(name));
            QVERIFY(file.open(QIODevice::ReadOnly));
            const QByteArray bytes = file.readAll();
            const ImageInfo info = ImageProbe::probe(bytes);
            const cv::Mat decoded = cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char *>(bytes.data())),
                                                 cv::IMREAD_COLOR);
            QVERIFY2(info.isValid(), qPrintable(name + QStringLiteral(": ") + info.error));
            QCOMPARE(info.width, decoded.cols);
            QCOMPARE(info.height, decoded.rows);
        }
    }

    void decompressionBombHeader_reportsTheClaimedSize()
    {
        // 29 bytes that claim a 100000 x 100000 canvas: the probe must say so without decoding.
        const ImageInfo info = ImageProbe::probe(pngHeaderClaiming(100000, 100000));
        QVERIFY(info.isValid());
        QCOMPARE(info.pixels(), qint64(10'000'000'000));
    }

    void truncatedHeaders_areInvalidNotCrashes_data()
    {
        QTest::addColumn<QString>("extension");
        for (const char *ext : {".jpg", ".png", ".bmp", ".webp", ".tiff"})
            QTest::newRow(ext) << QString::fromLatin1(ext);
    }

    void truncatedHeaders_areInvalidNotCrashes()
    {
        QFETCH(QString, extension);
        const QByteArray full = encode(qPrintable(extension), 64, 48);
        // Every prefix either gives the right size or says it cannot; never a wrong size.
        int valid = 0;
        for (int n = 0; n <= full.size(); ++n) { // TIFF keeps its directory at the end
            const ImageInfo info = ImageProbe::probe(full.left(n));
            if (info.isValid()) {
                ++valid;
                QCOMPARE(info.width, 64);
                QCOMPARE(info.height, 48);
            } else {
                QVERIFY(!info.error.isEmpty());
            }
        }
        QVERIFY(valid > 0);
    }

    void notAnImage_isRejectedWithTheSupportedFormats()
    {
        const ImageInfo text = ImageProbe::probe(QByteArrayLiteral("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        QVERIFY(!text.isValid());
        QVERIFY(text.format.isEmpty());
        QVERIFY2(text.error.contains(QStringLiteral("JPEG, PNG, BMP, WebP or TIFF")), qPrintable(text.error));
        QCOMPARE(ImageProbe::probe({}).error, QStringLiteral("empty image"));
    }

    void zeroSizedHeader_isInvalid()
    {
        const ImageInfo info = ImageProbe::probe(pngHeaderClaiming(0, 10));
        QVERIFY(!info.isValid());
        QCOMPARE(info.format, QStringLiteral("png"));
        QVERIFY(info.error.contains(QStringLiteral("0x10")));
    }

    void jpegWithoutFrameHeader_isInvalid()
    {
        // SOI, an APP0 segment, then straight to SOS: no size anywhere.
        const QByteArray bytes = QByteArray::fromHex("ffd8 ffe0 0004 0000 ffda 0002");
        const ImageInfo info = ImageProbe::probe(bytes);
        QVERIFY(!info.isValid());
        QCOMPARE(info.format, QStringLiteral("jpeg"));
    }

    void bigEndianTiff_isRead()
    {
        // "MM", 42, IFD at 8: two entries (ImageWidth SHORT 300, ImageLength LONG 70000).
        const QByteArray bytes = QByteArray::fromHex("4d4d002a 00000008 0002"
                                                     "0100 0003 00000001 012c0000"
                                                     "0101 0004 00000001 00011170"
                                                     "00000000");
        const ImageInfo info = ImageProbe::probe(bytes);
        QVERIFY2(info.isValid(), qPrintable(info.error));
        QCOMPARE(info.width, 300);
        QCOMPARE(info.height, 70000);
    }
};

QTEST_GUILESS_MAIN(TestImageProbe)
#include "tst_imageprobe.moc"
