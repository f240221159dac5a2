#include "detector/detector.h"
#include "detector/imagepipeline.h"
#include "imaging/imagefilereader.h"
#include "imaging/imagetransfer.h"
#include "markup/annotator.h"
#include "testimages.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <vector>

using namespace edgelens;

namespace {

QByteArray encodeJpeg(const cv::Mat &image, int quality = 95)
{
    std::vector<uchar> out;
    cv::imencode(".jpg", image, out, {cv::IMWRITE_JPEG_QUALITY, quality});
    return QByteArray(reinterpret_cast<const char *>(out.data()), qsizetype(out.size()));
}

cv::Mat decode(const QByteArray &bytes, int flags = cv::IMREAD_COLOR)
{
    return cv::imdecode(cv::Mat(1, int(bytes.size()), CV_8UC1, const_cast<char *>(bytes.constData())), flags);
}

// The stored pixels that display as `shown` under the EXIF orientation (1..8).
cv::Mat storedFor(const cv::Mat &shown, int orientation)
{
    cv::Mat out;
    switch (orientation) {
    case 2: cv::flip(shown, out, 1); break;
    case 3: cv::rotate(shown, out, cv::ROTATE_180); break;
    case 4: cv::flip(shown, out, 0); break;
    case 5: cv::transpose(shown, out); break;
    case 6: cv::rotate(shown, out, cv::ROTATE_90_COUNTERCLOCKWISE); break;
    case 7: cv::transpose(shown, out); cv::flip(out, out, -1); break;
    case 8: cv::rotate(shown, out, cv::ROTATE_90_CLOCKWISE); break;
    default: out = shown.clone(); break;
    }
    return out;
}

QRectF brightBox(const cv::Mat &bgr)
{
    cv::Mat grey, mask;
    cv::cvtColor(bgr, grey, cv::COLOR_BGR2GRAY);
    cv::threshold(grey, mask, 128, 255, cv::THRESH_BINARY);
    const cv::Rect r = cv::boundingRect(mask);
    return QRectF(r.x, r.y, r.width, r.height);
}

// A JPEG that displays (after its EXIF orientation) as a dark shownSize photo with one white
// box at truth.
QByteArray photoWithBox(const QSize &shownSize, const QRectF &truth, int orientation, int quality)
{
    cv::Mat shown(shownSize.height(), shownSize.width(), CV_8UC3, cv::Scalar(30, 40, 50));
    cv::rectangle(shown, cv::Rect(int(truth.x()), int(truth.y()), int(truth.width()), int(truth.height())),
                  cv::Scalar(255, 255, 255), cv::FILLED);
    return test::withExifOrientation(encodeJpeg(storedFor(shown, orientation), quality), orientation);
}

void addOrientationRows()
{
    QTest::addColumn<int>("orientation");
    for (int o = 1; o <= 8; ++o)
        QTest::newRow(qPrintable(QStringLiteral("exif %1").arg(o))) << o;
}

// Empty when a box mapped back to the original is exact up to one sent pixel (the resolution
// of what the server saw), else what differs.
QString mappedMismatch(const QRectF &box, const QRectF &truth, const PreparedImage &prepared)
{
    const double tolerance = std::max(prepared.scaleX, prepared.scaleY) + 0.5;
    if (qAbs(box.left() - truth.left()) <= tolerance && qAbs(box.top() - truth.top()) <= tolerance
        && qAbs(box.right() - truth.right()) <= tolerance && qAbs(box.bottom() - truth.bottom()) <= tolerance)
        return {};
    return QStringLiteral("mapped (%1,%2 %3x%4), truth (%5,%6 %7x%8), tolerance %9")
        .arg(box.x()).arg(box.y()).arg(box.width()).arg(box.height())
        .arg(truth.x()).arg(truth.y()).arg(truth.width()).arg(truth.height())
        .arg(tolerance);
}

// The server's side of a round trip: it finds the bright box in what it was sent, and the
// client maps the box back to the original.
struct RoundTrip
{
    cv::Mat sent;     // the payload as the server decodes it
    Detection found;  // in the payload's pixels
    QRectF box;       // mapped back to the original's
    QString mismatch; // empty when the payload has the size prepare() says and box is the truth
};

// What the orientation cases send: a photoWithBox and what prepare() makes of it.
struct BoxPhoto
{
    QSize shownSize;
    QRectF truth;
    QByteArray file;

    BoxPhoto(const QSize &shown, const QRectF &box, int orientation, int quality)
        : shownSize(shown)
        , truth(box)
        , file(photoWithBox(shown, box, orientation, quality))
    {
    }

    // prepare() for a 320x320 model (and what else options ask for). Empty when it made a
    // reduced copy and knows the oriented size, else what went wrong.
    QString prepareReduced(PreparedImage *prepared, TransferOptions options = {}) const
    {
        options.modelInput = QSize(320, 320);
        *prepared = ImageTransfer::prepare(file, options);
        if (!prepared->error.isEmpty())
            return prepared->error;
        if (!prepared->reduced)
            return QStringLiteral("not reduced");
        if (prepared->originalSize != shownSize)
            return QStringLiteral("oriented size %1x%2, expected %3x%4")
                .arg(prepared->originalSize.width()).arg(prepared->originalSize.height())
                .arg(shownSize.width()).arg(shownSize.height());
        return {};
    }

    RoundTrip roundTrip(const PreparedImage &prepared) const
    {
        RoundTrip out;
        out.sent = decode(prepared.payload);
        if (QSize(out.sent.cols, out.sent.rows) != prepared.sentSize) {
            out.mismatch = QStringLiteral("the payload decodes to %1x%2, prepare() says %3x%4")
                               .arg(out.sent.cols).arg(out.sent.rows)
                               .arg(prepared.sentSize.width()).arg(prepared.sentSize.height());
            return out;
        }
        out.found = Detection{0, QStringLiteral("box"), 0.9f, brightBox(out.sent)};
        out.box = ImageTransfer::toOriginal({out.found}, prepared).first().box;
        out.mismatch = mappedMismatch(out.box, truth, prepared);
        return out;
    }
};

// Finds what it is told to: boxes given as fractions of whatever image it is handed.
class FixedDetector final : public Detector
{
public:
    explicit FixedDetector(QList<Detection> fractions)
        : m_fractions(std::move(fractions))
    {
        m_manifest.name = QStringLiteral("fixed");
        m_manifest.family = QStringLiteral("test");
        m_manifest.inputWidth = 320;
        m_manifest.inputHeight = 320;
    }
    QList<Detection> detect(const cv::Mat &bgr, const DetectParams &) override
    {
        lastSize = QSize(bgr.cols, bgr.rows);
        QList<Detection> out = m_fractions;
        for (Detection &d : out)
            d.box = QRectF(d.box.x() * bgr.cols, d.box.y() * bgr.rows, d.box.width() * bgr.cols, d.box.height() * bgr.rows);
        return out;
    }
    const ModelManifest &manifest() const override { return m_manifest; }
    QString backendDescription() const override { return QStringLiteral("test"); }
    QSize lastSize;

private:
    QList<Detection> m_fractions;
    ModelManifest m_manifest;
};

} // namespace

class TestImageTransfer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void reduction_keepsOrientationAndMapsBoxes_data()
    {
        addOrientationRows();
    }

    void reduction_keepsOrientationAndMapsBoxes()
    {
        QFETCH(int, orientation);
        // What a viewer shows: a landscape photo, one bright box off-centre (so any wrong
        // rotation or flip moves it).
        const BoxPhoto photo(QSize(2404, 1802), QRectF(301, 257, 640, 388), orientation, 95);
        const QSize shownSize = photo.shownSize;
        PreparedImage prepared;
        const QString problem = photo.prepareReduced(&prepared);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(prepared.payload.size() < photo.file.size() / 4);
        QVERIFY(prepared.sentSize.width() < shownSize.width() / 2);

        // The server finds the box in what it was sent; the client maps it back.
        const RoundTrip trip = photo.roundTrip(prepared);
        QVERIFY2(trip.mismatch.isEmpty(), qPrintable(trip.mismatch));
        // Same aspect as the shown image, upright.
        QVERIFY(qAbs(double(trip.sent.cols) / trip.sent.rows - double(shownSize.width()) / shownSize.height()) < 0.01);
        const Detection found = trip.found;
        const QRectF box = trip.box;

        // The result drawn here is upright too, and the sidecar sizes are the original's.
        DetectionResult result;
        result.imageWidth = prepared.sentSize.width();
        result.imageHeight = prepared.sentSize.height();
        result.detections = {found};
        QByteArray jpeg;
        QString error;
        QVERIFY(ImageTransfer::completeResult(result, &jpeg, photo.file, prepared, true, 0, 90, QString(), &error));
        QCOMPARE(QSize(result.imageWidth, result.imageHeight), shownSize);
        QCOMPARE(result.detections.first().box, box);
        const cv::Mat drawn = decode(jpeg);
        QCOMPARE(QSize(drawn.cols, drawn.rows), shownSize);
    }

    void oneDecode_sameGeometryResultAndOrientation_data()
    {
        addOrientationRows();
    }

    // The app decodes each file once (at the result's reduction) and makes the model's copy,
    // the result and the thumbnail from that decode: the same payload geometry and box mapping
    // as a copy decoded on its own, and the same result JPEG as decoding the file again.
    void oneDecode_sameGeometryResultAndOrientation()
    {
        QFETCH(int, orientation);
        const BoxPhoto photo(QSize(4032, 3024), QRectF(1204, 1028, 1280, 776), orientation, 85);
        const QSize shownSize = photo.shownSize;
        const QRectF truth = photo.truth;
        PreparedImage separate;
        QString problem = photo.prepareReduced(&separate);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QVERIFY(separate.canvas.empty());
        QVERIFY(separate.thumbnail.isNull());

        TransferOptions once;
        once.resultMaxSide = 2048;
        once.thumbnailBox = QSize(240, 180);
        PreparedImage prepared;
        problem = photo.prepareReduced(&prepared, once);
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
        QCOMPARE(prepared.sentSize, separate.sentSize);
        QCOMPARE(prepared.scaleX, separate.scaleX);
        QCOMPARE(prepared.scaleY, separate.scaleY);
        QCOMPARE(QSize(prepared.canvas.cols, prepared.canvas.rows), QSize(2016, 1512));
        QCOMPARE(QSize(prepared.canvas.cols, prepared.canvas.rows), ImageTransfer::resultSize(shownSize, 2048, true));

        // The model's copy is upright and the box maps back as exactly as before.
        const RoundTrip trip = photo.roundTrip(prepared);
        QVERIFY2(trip.mismatch.isEmpty(), qPrintable(trip.mismatch));
        const QRectF box = trip.box;

        // The thumbnail is upright, fits the box and shows the box where it is.
        QCOMPARE(prepared.thumbnail.size(), QSize(240, 180));
        QCOMPARE(prepared.thumbnail.format(), QImage::Format_RGB32);
        const QPoint inside(int((truth.center().x()) * 240 / shownSize.width()), int(truth.center().y() * 180 / shownSize.height()));
        QVERIFY(qGray(prepared.thumbnail.pixel(inside)) > 200);
        QVERIFY(qGray(prepared.thumbnail.pixel(5, 5)) < 80);

        // Drawing on the kept decode gives the bytes a second decode of the file gives.
        const QList<Detection> boxes{Detection{0, QStringLiteral("person"), 0.9f, box}};
        QString error;
        const QByteArray again = ImageTransfer::renderMarkup(photo.file, boxes, 2048, 90, QString(), &error);
        QVERIFY2(!again.isEmpty(), qPrintable(error));
        const QByteArray kept = ImageTransfer::renderMarkupOn(prepared.canvas, prepared.originalSize, boxes, 90, QString(), &error);
        QVERIFY2(!kept.isEmpty(), qPrintable(error));
        QCOMPARE(kept, again);
    }

    void oneDecode_originalSizeResultsAreNotHeld()
    {
        const QByteArray big = encodeJpeg(cv::Mat(3024, 4032, CV_8UC3, cv::Scalar(10, 20, 30)), 80);
        TransferOptions options;
        options.modelInput = QSize(320, 320);
        options.resultMaxSide = 0; // original size: 12 MP held per request would be too much
        const PreparedImage prepared = ImageTransfer::prepare(big, options);
        QVERIFY(prepared.reduced);
        QVERIFY(prepared.canvas.empty());
        QVERIFY(4032LL * 3024 > ImageTransfer::maxCanvasPixels());

        // A small image at original size is held, and drawing on it is the server's markup.
        cv::Mat photo(600, 800, CV_8UC3);
        cv::randu(photo, cv::Scalar::all(0), cv::Scalar::all(255));
        const QByteArray file = encodeJpeg(photo);
        FixedDetector detector({Detection{0, QStringLiteral("person"), 0.93f, QRectF(0.1, 0.2, 0.3, 0.4)}});
        PipelineRequest request;
        request.markup = true;
        const PipelineOutcome server = ImagePipeline(detector).run(file, request);
        QVERIFY2(server.ok, qPrintable(server.errorString));
        PreparedImage small = ImageTransfer::prepare(file, options);
        QVERIFY(!small.reduced);
        QCOMPARE(small.payload, file);
        QCOMPARE(QSize(small.canvas.cols, small.canvas.rows), QSize(800, 600));
        QString error;
        QCOMPARE(ImageTransfer::renderMarkupOn(small.canvas, small.originalSize, server.detections, 90, QString(), &error),
                 server.jpeg);
    }

    void fromPixels_sameGeometryAsFromTheFile_fileOnlyReadWhenItGoesWhole()
    {
        // A 1920x1080 video frame with one white box, and its frame file as the extractor writes it.
        const QRectF truth(600, 300, 400, 240);
        cv::Mat frame(1080, 1920, CV_8UC3, cv::Scalar(30, 40, 50));
        cv::rectangle(frame, cv::Rect(600, 300, 400, 240), cv::Scalar(255, 255, 255), cv::FILLED);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("clip_f000010.jpg"));
        const QByteArray file = encodeJpeg(frame);
        {
            QFile out(path);
            QVERIFY(out.open(QIODevice::WriteOnly) && out.write(file) == file.size());
        }
        TransferOptions options;
        options.modelInput = QSize(160, 160); // 1080p for a 320 model goes whole: 2 x 320 > 1080 / 2
        options.resultMaxSide = 2048;
        options.thumbnailBox = QSize(160, 120);
        const PreparedImage fromFile = ImageTransfer::prepare(file, options);
        const PreparedImage fromPixels = ImageTransfer::prepareFromPixels(frame, path, options);
        QVERIFY(fromPixels.error.isEmpty());
        QVERIFY(fromPixels.reduced);
        QCOMPARE(fromPixels.originalSize, fromFile.originalSize);
        QCOMPARE(fromPixels.sentSize, fromFile.sentSize);
        QCOMPARE(fromPixels.scaleX, fromFile.scaleX);
        QCOMPARE(fromPixels.scaleY, fromFile.scaleY);
        QCOMPARE(QSize(fromPixels.canvas.cols, fromPixels.canvas.rows), QSize(1920, 1080));
        QCOMPARE(fromPixels.thumbnail.size(), fromFile.thumbnail.size());
        // The copy sent shows the box where the original has it, once mapped back.
        const cv::Mat sent = decode(fromPixels.payload);
        QCOMPARE(QSize(sent.cols, sent.rows), fromPixels.sentSize);
        const QRectF back = ImageTransfer::toOriginal({Detection{0, QStringLiteral("box"), 1.0f, brightBox(sent)}},
                                                      fromPixels)
                                .first()
                                .box;
        QVERIFY2(std::abs(back.x() - truth.x()) <= 4 && std::abs(back.width() - truth.width()) <= 8,
                 qPrintable(QStringLiteral("%1 %2").arg(back.x()).arg(back.width())));

        // A 320 model: a file of the frame goes whole (a copy would not save half of each
        // side, and decoding the file here costs about what the device saves), but the pixels
        // are decoded already: the copy at twice the input is made.
        options.modelInput = QSize(320, 320);
        QVERIFY(!ImageTransfer::prepare(file, options).reduced);
        const PreparedImage forThree = ImageTransfer::prepareFromPixels(frame, path, options);
        QVERIFY(forThree.reduced);
        QCOMPARE(forThree.sentSize, QSize(1138, 640));
        QCOMPARE(forThree.originalSize, QSize(1920, 1080));

        // Nothing gained by a copy (a model as large as the frame) or asked to send originals:
        // the file goes as it is, read from disk; the canvas still comes from the pixels.
        options.modelInput = QSize(1280, 1280);
        PreparedImage whole = ImageTransfer::prepareFromPixels(frame, path, options);
        QVERIFY(!whole.reduced);
        QCOMPARE(whole.payload, file);
        QCOMPARE(QSize(whole.canvas.cols, whole.canvas.rows), QSize(1920, 1080));
        options.modelInput = QSize(160, 160);
        options.sendOriginal = true;
        whole = ImageTransfer::prepareFromPixels(frame, path, options);
        QVERIFY(!whole.reduced);
        QCOMPARE(whole.payload, file);
        // A frame file gone meanwhile is a clear error when it has to be sent.
        QVERIFY(QFile::remove(path));
        QVERIFY(!ImageTransfer::prepareFromPixels(frame, path, options).error.isEmpty());
        // A smaller result side gets a canvas of that size, from the pixels.
        options.sendOriginal = false;
        options.resultMaxSide = 960;
        const PreparedImage smaller = ImageTransfer::prepareFromPixels(frame, path, options);
        QCOMPARE(QSize(smaller.canvas.cols, smaller.canvas.rows), QSize(960, 540));
    }

    void thumbnail_fitsBoxKeepsAspectNeverEnlarges()
    {
        cv::Mat image(300, 400, CV_8UC3, cv::Scalar(0, 0, 255)); // red in BGR
        const QImage t = ImageTransfer::thumbnail(image, QSize(100, 100));
        QCOMPARE(t.size(), QSize(100, 75));
        QCOMPARE(QColor(t.pixel(50, 40)), QColor(255, 0, 0));
        QCOMPARE(ImageTransfer::thumbnail(image, QSize(800, 800)).size(), QSize(400, 300));
        QVERIFY(ImageTransfer::thumbnail(cv::Mat(), QSize(100, 100)).isNull());
    }

    void smallImagesAndSendOriginal_goAsTheyAre()
    {
        const QByteArray small = encodeJpeg(cv::Mat(480, 640, CV_8UC3, cv::Scalar(1, 2, 3)));
        TransferOptions options;
        options.modelInput = QSize(320, 320);
        QVERIFY(!ImageTransfer::prepare(small, options).reduced); // 640 is twice 320: nothing to gain
        const QByteArray big = encodeJpeg(cv::Mat(3000, 4000, CV_8UC3, cv::Scalar(1, 2, 3)));
        options.sendOriginal = true;
        const PreparedImage prepared = ImageTransfer::prepare(big, options);
        QVERIFY(!prepared.reduced);
        QCOMPARE(prepared.payload, big);
        options.sendOriginal = false;
        options.modelInput = QSize();
        QVERIFY(!ImageTransfer::prepare(big, options).reduced); // a server that did not say
    }

    void clientMarkup_equalsServerMarkupPixelForPixel()
    {
        cv::Mat photo(900, 1200, CV_8UC3);
        cv::randu(photo, cv::Scalar::all(0), cv::Scalar::all(255));
        const QByteArray file = encodeJpeg(photo);
        FixedDetector detector({Detection{0, QStringLiteral("person"), 0.93f, QRectF(0.1, 0.2, 0.3, 0.4)},
                                Detection{16, QStringLiteral("dog"), 0.61f, QRectF(0.5, 0.5, 0.45, 0.3)},
                                Detection{7, QString(), 0.4f, QRectF(0.0, 0.0, 0.2, 0.1)}});
        PipelineRequest request;
        request.markup = true;
        request.jpegQuality = 90;
        const PipelineOutcome server = ImagePipeline(detector).run(file, request);
        QVERIFY2(server.ok, qPrintable(server.errorString));

        // The client draws the same detections (data from the server) on its own decode.
        QString error;
        const QByteArray client = ImageTransfer::renderMarkup(file, server.detections, 0, 90, QString(), &error);
        QVERIFY2(!client.isEmpty(), qPrintable(error));
        const cv::Mat a = decode(server.jpeg);
        const cv::Mat b = decode(client);
        QCOMPARE(a.size(), b.size());
        QCOMPARE(cv::norm(a, b, cv::NORM_INF), 0.0);
        QCOMPARE(client, server.jpeg);

        // Fit within 2048: same style, scaled result.
        cv::Mat big;
        cv::resize(photo, big, cv::Size(4032, 3024));
        const QByteArray bigFile = encodeJpeg(big);
        const QByteArray fitted = ImageTransfer::renderMarkup(bigFile, server.detections, 2048, 90, QString(), &error);
        const cv::Mat f = decode(fitted);
        QVERIFY(f.cols <= 2048 && f.rows <= 2048 && f.cols >= 1024);
    }

    void deviceReducedDecode_mapsBoxesToFullSize()
    {
        cv::Mat photo(3024, 4032, CV_8UC3, cv::Scalar(90, 90, 90));
        const QByteArray file = encodeJpeg(photo, 80);
        FixedDetector detector({Detection{0, QStringLiteral("person"), 0.9f, QRectF(0.25, 0.5, 0.5, 0.25)}});
        PipelineRequest request;
        request.reducedDecode = true;
        const PipelineOutcome out = ImagePipeline(detector).run(file, request);
        QVERIFY2(out.ok, qPrintable(out.errorString));
        QCOMPARE(out.imageSize, QSize(4032, 3024));
        QVERIFY(detector.lastSize.width() <= 4032 / 2); // decoded reduced
        QVERIFY(detector.lastSize.width() >= 640);      // still twice the model input
        const QRectF box = out.detections.first().box;
        QVERIFY(qAbs(box.x() - 1008) < 1 && qAbs(box.y() - 1512) < 1 && qAbs(box.width() - 2016) < 1
                && qAbs(box.height() - 756) < 1);

        request.maxPixels = 4032 * 3000; // the header's size counts, not the reduced decode's
        QCOMPARE(ImagePipeline(detector).run(file, request).errorCode, protocol::ErrorCode::TooLarge);

        request = PipelineRequest();
        request.reducedDecode = true;
        request.markup = true; // the marked-up path stays exact
        QVERIFY(ImagePipeline(detector).run(file, request).ok);
        QCOMPARE(detector.lastSize, QSize(4032, 3024));
    }

    void fileReader_refusesOversizedAndMissingFiles()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("a.jpg"));
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray(5000, 'x'));
        f.close();
        QVERIFY(ImageFileReader::read(path).ok());
        const ImageFileReader::Result tooBig = ImageFileReader::read(path, 4000);
        QVERIFY(!tooBig.ok());
        QVERIFY(tooBig.bytes.isEmpty());
        QVERIFY(tooBig.error.contains(QStringLiteral("too large")));
        QVERIFY(!ImageFileReader::read(dir.filePath(QStringLiteral("missing.jpg"))).ok());
    }
};

QTEST_GUILESS_MAIN(TestImageTransfer)
#include "tst_imagetransfer.moc"
