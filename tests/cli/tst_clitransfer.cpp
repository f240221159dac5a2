// edgelens-cli with phone-sized photos and with folders it has written to before: the same
// reading path and transfer as the desktop app (bounded reads, reduced copies for a v2 server,
// markup drawn locally), and output folders that a later scan of the parent leaves out.

#include "isolateduserstate.h"
#include "metricsamples.h"
#include "processrunner.h"
#include "serverprocess.h"
#include "testdata.h"

#include <QDir>
#include <QEventLoop>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QRectF>
#include <QRegularExpression>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <cmath>

using edgelens::test::filesUnder;
using edgelens::test::ProcessRun;

namespace {

const QSize kPhoto(4032, 3024);

QJsonObject readJson(const QString &path)
{
    return QJsonDocument::fromJson(edgelens::test::readFile(path)).object();
}

QList<QRectF> boxesOf(const QJsonObject &sidecar)
{
    QList<QRectF> boxes;
    for (const QJsonValue &value : sidecar.value(QStringLiteral("detections")).toArray()) {
        const QJsonArray box = value.toObject().value(QStringLiteral("box")).toArray();
        boxes.append(QRectF(box.at(0).toDouble(), box.at(1).toDouble(), box.at(2).toDouble(), box.at(3).toDouble()));
    }
    return boxes;
}

// The default result size: within 2048 px, the photo's shape, and not needlessly small (the
// least libjpeg reduction that fits: 2016x1512 for 4032x3024).
bool fitsWithin2048(const QSize &size)
{
    return std::max(size.width(), size.height()) <= 2048 && std::max(size.width(), size.height()) > 1024
        && std::abs(double(size.width()) / size.height() - double(kPhoto.width()) / kPhoto.height()) < 0.01;
}

double iou(const QRectF &a, const QRectF &b)
{
    const QRectF overlap = a.intersected(b);
    const double inter = overlap.width() * overlap.height();
    const double uni = a.width() * a.height() + b.width() * b.height() - inter;
    return uni > 0 ? inter / uni : 0;
}

} // namespace

class TestCliTransfer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void bigPhotos_v2_sendReducedCopies_boxesInOriginalPixels_resultFits2048();
    void bigPhotos_sendOriginal_sendsTheWholeFiles();
    void resultMaxSideZero_drawsAtOriginalSize();
    void fileOverTheReadCap_failsClearly_othersSucceed();
    void parentFolderScannedAgain_sendsNothingFromTheOutput();
    void badResultSize_isAUsageError();

private:
    ProcessRun runCli(const QStringList &arguments, int timeoutMs = 240000);
    double receivedBytes(); // the server's edgelens_received_bytes_total for v2
    QString m_cli;
    QString m_photos; // three 12 MP JPEGs made from coco128 pictures
    qint64 m_photoBytes = 0;
    edgelens::test::ServerProcess m_server;
    quint16 m_httpPort = 0;
    edgelens::test::IsolatedUserState m_dir;
};

void TestCliTransfer::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_cli = edgelens::test::executablePath(QStringLiteral("edgelens-cli"));
    QVERIFY2(QFileInfo(m_cli).isExecutable(), qPrintable(m_cli));
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/coco128-train/images/000000000036.jpg"));
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/nanodet-m-320"));

    // Phone-sized photos of real scenes (people, a bus, a dog), upscaled like a camera's output.
    m_photos = m_dir.filePath(QStringLiteral("photos"));
    QVERIFY(QDir().mkpath(m_photos));
    for (const QString &name : {QStringLiteral("000000000036"), QStringLiteral("000000000061"),
                                QStringLiteral("000000000074")}) {
        const QString source = edgelens::test::sharedPath(QStringLiteral("data/coco128-train/images/%1.jpg").arg(name));
        const QImage small(source);
        QVERIFY2(!small.isNull(), qPrintable(source));
        const QImage big = small.scaled(kPhoto, Qt::IgnoreAspectRatio, Qt::SmoothTransformation);
        const QString path = QDir(m_photos).filePath(name + QStringLiteral(".jpg"));
        QVERIFY(big.save(path, "JPEG", 92));
        m_photoBytes += QFileInfo(path).size();
    }

    QVERIFY2(m_server.start({QStringLiteral("--http-port"), QStringLiteral("0")}), qPrintable(m_server.diagnostics()));
    m_httpPort = quint16(m_server.stdoutCapture(QStringLiteral("http listening on [^\\n]*:(\\d+)")).toUInt());
    QVERIFY2(m_httpPort != 0, qPrintable(m_server.out()));
}

ProcessRun TestCliTransfer::runCli(const QStringList &arguments, int timeoutMs)
{
    edgelens::test::ProcessOptions options;
    options.workingDirectory = m_dir.path();
    options.timeoutMs = timeoutMs;
    options.environment = m_dir.childEnvironment();
    return edgelens::test::runProcess(m_cli, arguments, options);
}

double TestCliTransfer::receivedBytes()
{
    QNetworkAccessManager manager;
    QNetworkReply *reply =
        manager.get(QNetworkRequest(QUrl(QStringLiteral("http://127.0.0.1:%1/metrics").arg(m_httpPort))));
    QEventLoop loop;
    connect(reply, &QNetworkReply::finished, &loop, &QEventLoop::quit);
    QTimer::singleShot(30000, &loop, &QEventLoop::quit);
    loop.exec();
    const QByteArray text = reply->readAll();
    reply->deleteLater();
    return edgelens::test::metricValue(text, QStringLiteral("edgelens_received_bytes_total{protocol=\"v2\"}"));
}

void TestCliTransfer::bigPhotos_v2_sendReducedCopies_boxesInOriginalPixels_resultFits2048()
{
    const QString reducedOut = m_dir.filePath(QStringLiteral("reduced"));
    const QString wholeOut = m_dir.filePath(QStringLiteral("whole"));
    const QStringList common = {QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                QString::number(m_server.port()), QStringLiteral("--json")};
    const double before = receivedBytes();
    QVERIFY(before >= 0);
    const ProcessRun reduced = runCli(common + QStringList{QStringLiteral("--output"), reducedOut, m_photos});
    QVERIFY2(reduced.exitCode == 0, qPrintable(reduced.err));
    QVERIFY2(reduced.out.startsWith(QStringLiteral("3 images, 0 failed, ")), qPrintable(reduced.out));
    const double sent = receivedBytes() - before;
    // Reduced copies for a 320x320 model are about 5% of the 12 MP files.
    QVERIFY2(sent > 0 && sent < 0.25 * double(m_photoBytes),
             qPrintable(QStringLiteral("%1 bytes sent for %2 bytes of files").arg(sent).arg(m_photoBytes)));

    const ProcessRun whole =
        runCli(common + QStringList{QStringLiteral("--send-original"), QStringLiteral("--output"), wholeOut, m_photos});
    QVERIFY2(whole.exitCode == 0, qPrintable(whole.err));

    int matched = 0;
    const QStringList sidecars = filesUnder(reducedOut, {QStringLiteral("*.json")});
    QCOMPARE(sidecars.size(), 3);
    for (const QString &name : sidecars) {
        const QJsonObject fromReduced = readJson(QDir(reducedOut).filePath(name));
        const QJsonObject fromWhole = readJson(QDir(wholeOut).filePath(name));
        // The sidecar speaks of the original: its size and boxes in its pixels.
        QCOMPARE(fromReduced.value(QStringLiteral("width")).toInt(), kPhoto.width());
        QCOMPARE(fromReduced.value(QStringLiteral("height")).toInt(), kPhoto.height());
        QCOMPARE(fromWhole.value(QStringLiteral("width")).toInt(), kPhoto.width());
        const QList<QRectF> a = boxesOf(fromReduced);
        const QList<QRectF> b = boxesOf(fromWhole);
        for (const QRectF &box : a)
            QVERIFY(QRectF(QPointF(0, 0), QSizeF(kPhoto)).adjusted(-1, -1, 1, 1).contains(box));
        // The same detections as from the whole file, up to what a 2x-model-input copy changes.
        for (const QRectF &box : a) {
            const bool found = std::any_of(b.cbegin(), b.cend(), [&](const QRectF &other) { return iou(box, other) > 0.8; });
            matched += found ? 1 : 0;
        }
        const QString jpeg = QDir(reducedOut).filePath(fromReduced.value(QStringLiteral("result_image")).toString());
        const QSize resultSize = QImageReader(jpeg).size();
        QVERIFY2(fitsWithin2048(resultSize), qPrintable(QStringLiteral("%1: %2x%3").arg(jpeg).arg(resultSize.width()).arg(resultSize.height())));
    }
    QVERIFY2(matched >= 3, qPrintable(QStringLiteral("only %1 boxes matched the whole-file run").arg(matched)));
    // At least one box reaches beyond the reduced copy's size: the boxes were mapped back.
    bool beyond = false;
    for (const QString &name : sidecars) {
        for (const QRectF &box : boxesOf(readJson(QDir(reducedOut).filePath(name))))
            beyond = beyond || box.right() > 1000;
    }
    QVERIFY(beyond);
}

void TestCliTransfer::bigPhotos_sendOriginal_sendsTheWholeFiles()
{
    const double before = receivedBytes();
    const ProcessRun run = runCli({QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                   QString::number(m_server.port()), QStringLiteral("--send-original"),
                                   QStringLiteral("--output"), m_dir.filePath(QStringLiteral("original")), m_photos});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    const double sent = receivedBytes() - before;
    QVERIFY2(sent >= double(m_photoBytes),
             qPrintable(QStringLiteral("%1 bytes sent for %2 bytes of files").arg(sent).arg(m_photoBytes)));
    // Still drawn here (no 12 MP JPEG back), fitting 2048.
    const QStringList results = filesUnder(m_dir.filePath(QStringLiteral("original")), {QStringLiteral("*.jpg")});
    QCOMPARE(results.size(), 3);
    for (const QString &jpeg : results)
        QVERIFY(fitsWithin2048(QImageReader(m_dir.filePath(QStringLiteral("original/")) + jpeg).size()));
}

void TestCliTransfer::resultMaxSideZero_drawsAtOriginalSize()
{
    const QString out = m_dir.filePath(QStringLiteral("fullsize"));
    const QString photo = QDir(m_photos).filePath(QStringLiteral("000000000036.jpg"));
    const ProcessRun run = runCli({QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                   QString::number(m_server.port()), QStringLiteral("--result-max-side"),
                                   QStringLiteral("0"), QStringLiteral("--output"), out, photo});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QCOMPARE(QImageReader(QDir(out).filePath(QStringLiteral("000000000036.jpg"))).size(), kPhoto);
}

void TestCliTransfer::fileOverTheReadCap_failsClearly_othersSucceed()
{
    const QString in = m_dir.filePath(QStringLiteral("capped"));
    QVERIFY(QDir().mkpath(in));
    QVERIFY(QFile::copy(QDir(m_photos).filePath(QStringLiteral("000000000036.jpg")), in + QStringLiteral("/a.jpg")));
    QVERIFY(QFile::copy(QDir(m_photos).filePath(QStringLiteral("000000000061.jpg")), in + QStringLiteral("/b.jpg")));
    // Sparse: 65 MB that cost no disk; the reader refuses it by its size before reading.
    QFile huge(in + QStringLiteral("/huge.jpg"));
    QVERIFY(huge.open(QIODevice::WriteOnly));
    QVERIFY(huge.resize(65LL * 1024 * 1024));
    huge.close();

    const QString out = m_dir.filePath(QStringLiteral("capped-out"));
    const ProcessRun run = runCli({QStringLiteral("--json"), QStringLiteral("--output"), out, in});
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QRegularExpression(QStringLiteral("huge\\.jpg: FAILED: file too large \\(65 MB, at most \\d+ MB\\)"))),
             qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("3 images, 1 failed, ")), qPrintable(run.out));
    QCOMPARE(filesUnder(out, {QStringLiteral("*.jpg")}), QStringList({QStringLiteral("a.jpg"), QStringLiteral("b.jpg")}));
    QCOMPARE(readJson(out + QStringLiteral("/a.json")).value(QStringLiteral("width")).toInt(), kPhoto.width());
}

void TestCliTransfer::parentFolderScannedAgain_sendsNothingFromTheOutput()
{
    const QString parent = m_dir.filePath(QStringLiteral("album"));
    const QString trip = parent + QStringLiteral("/trip");
    QVERIFY(QDir().mkpath(trip));
    for (const QString &name : {QStringLiteral("soccer.jpg"), QStringLiteral("images.jpg")})
        QVERIFY(QFile::copy(edgelens::test::samplePath(name), trip + QLatin1Char('/') + name));

    // As the app does: results in an "inferenced" folder beside the photos.
    const ProcessRun first = runCli({QStringLiteral("--json"), QStringLiteral("--output"),
                                     trip + QStringLiteral("/inferenced"), trip});
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    QVERIFY(QFileInfo::exists(trip + QStringLiteral("/inferenced/.edgelens-output")));
    QCOMPARE(filesUnder(trip + QStringLiteral("/inferenced"), {QStringLiteral("*.jpg")}).size(), 2);

    // The parent, to another output folder: only the two photos go, the results stay out.
    const QString second = m_dir.filePath(QStringLiteral("album-out"));
    const ProcessRun again = runCli({QStringLiteral("--json"), QStringLiteral("--output"), second, parent});
    QVERIFY2(again.exitCode == 0, qPrintable(again.err));
    QVERIFY2(again.out.startsWith(QStringLiteral("2 images, 0 failed, ")), qPrintable(again.out));
    QVERIFY2(again.out.contains(QStringLiteral("skipped 1 EdgeLens output folder(s), 2 image(s)")), qPrintable(again.out));
    QCOMPARE(filesUnder(second, {QStringLiteral("*.jpg")}),
             QStringList({QStringLiteral("trip/images.jpg"), QStringLiteral("trip/soccer.jpg")}));

    // Only the output's parent holds the photos, so the first output folder is not marked as
    // holding inputs; a folder merely called "inferenced" is scanned like any other.
    QVERIFY(QDir(parent).mkpath(QStringLiteral("other/inferenced")));
    QVERIFY(QFile::copy(edgelens::test::samplePath(QStringLiteral("soccer.jpg")),
                        parent + QStringLiteral("/other/inferenced/mine.jpg")));
    const ProcessRun third = runCli({QStringLiteral("--quiet"), QStringLiteral("--output"),
                                     m_dir.filePath(QStringLiteral("album-out2")), parent});
    QVERIFY2(third.out.startsWith(QStringLiteral("3 images, 0 failed, ")), qPrintable(third.out));
}

void TestCliTransfer::badResultSize_isAUsageError()
{
    const ProcessRun run = runCli({QStringLiteral("--result-max-side"), QStringLiteral("-5"), m_photos}, 30000);
    QCOMPARE(run.exitCode, 64);
    QVERIFY2(run.err.contains(QStringLiteral("--result-max-side")), qPrintable(run.err));
}

QTEST_GUILESS_MAIN(TestCliTransfer)
#include "tst_clitransfer.moc"
