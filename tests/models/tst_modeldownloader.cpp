#include "models/modeldownloader.h"

#include "httptestserver.h"
#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;
using edgelens::test::readFile;
using edgelens::test::sha256Hex;

class TestModelDownloader : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void download_verifiesChecksum_andPlacesTheFile();
    void wrongChecksum_leavesNoFileInPlace();
    void connectionCutHalfway_failsClearly_thenResumesWithRange();
    void serverWithoutRange_restartsTheFileCleanly();
    void offline_failsWithAClearReason();
    void missingOnServer_saysHttp404();
    void verifiedFileAlreadyThere_isNotDownloadedAgain();

private:
    bool run(ModelDownloader &downloader, const QList<DownloadFile> &files, QString *error);
    QUrl urlFor(const QString &name) const;

    test::HttpTestServer m_server;
    QByteArray m_model; // a real model file from the shared folder
    QString m_modelSha;
    QTemporaryDir m_dir;
    QString m_target;
    int m_run = 0;
};

void TestModelDownloader::initTestCase()
{
    QStandardPaths::setTestModeEnabled(true);
    m_model = readFile(test::sharedPath(QStringLiteral("models/fastestdet-352/fastestdet-352.onnx")));
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/fastestdet-352/fastestdet-352.onnx"));
    QVERIFY(!m_model.isEmpty());
    m_modelSha = sha256Hex(m_model);
    QCOMPARE(m_modelSha, QStringLiteral("31cb14c017fce347cb4c846ec62fdf00d76bb3beecdf4be21e7116ac67feb880"));
    m_server.files.insert(QStringLiteral("fastestdet-352.onnx"), m_model);
    m_server.files.insert(QStringLiteral("coco.names"), readFile(test::sharedPath(QStringLiteral("models/coco.names"))));
    QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
    QVERIFY(m_dir.isValid());
}

void TestModelDownloader::init()
{
    m_target = m_dir.filePath(QStringLiteral("run%1/fastestdet-352").arg(++m_run));
    m_server.supportRange = true;
    m_server.cutAfter = -1;
    m_server.rangeHeaders.clear();
    m_server.requests = 0;
}

QUrl TestModelDownloader::urlFor(const QString &name) const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1/%2").arg(m_server.serverPort()).arg(name));
}

bool TestModelDownloader::run(ModelDownloader &downloader, const QList<DownloadFile> &files, QString *error)
{
    QSignalSpy finished(&downloader, &ModelDownloader::finished);
    downloader.start(files, m_target);
    if (!finished.wait(20000)) {
        *error = QStringLiteral("timed out");
        return false;
    }
    *error = finished.first().at(1).toString();
    return finished.first().at(0).toBool();
}

void TestModelDownloader::download_verifiesChecksum_andPlacesTheFile()
{
    ModelDownloader downloader;
    QSignalSpy progress(&downloader, &ModelDownloader::progress);
    QSignalSpy done(&downloader, &ModelDownloader::fileFinished);
    const QByteArray names = m_server.files.value(QStringLiteral("coco.names"));
    QString error;
    QVERIFY2(run(downloader,
                 {{QStringLiteral("fastestdet-352.onnx"), urlFor(QStringLiteral("fastestdet-352.onnx")), m_modelSha},
                  {QStringLiteral("coco.names"), urlFor(QStringLiteral("coco.names")), sha256Hex(names)}},
                 &error),
             qPrintable(error));
    QCOMPARE(sha256Hex(readFile(m_target + QStringLiteral("/fastestdet-352.onnx"))), m_modelSha);
    QCOMPARE(readFile(m_target + QStringLiteral("/coco.names")), names);
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx.part")));
    QCOMPARE(done.size(), 2);
    QVERIFY(!progress.isEmpty());
    QCOMPARE(progress.last().at(1).toLongLong(), qint64(names.size()));
    QCOMPARE(QDir(m_target).entryList(QDir::Files).size(), 2);
}

void TestModelDownloader::wrongChecksum_leavesNoFileInPlace()
{
    ModelDownloader downloader;
    QString error;
    const QString wrong = QString(64, QLatin1Char('0'));
    QVERIFY(!run(downloader, {{QStringLiteral("fastestdet-352.onnx"), urlFor(QStringLiteral("fastestdet-352.onnx")), wrong}},
                 &error));
    QVERIFY2(error.contains(QStringLiteral("checksum mismatch")), qPrintable(error));
    QVERIFY2(error.contains(m_modelSha), qPrintable(error));
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx")));
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx.part")));
}

void TestModelDownloader::connectionCutHalfway_failsClearly_thenResumesWithRange()
{
    const DownloadFile file{QStringLiteral("fastestdet-352.onnx"), urlFor(QStringLiteral("fastestdet-352.onnx")), m_modelSha};
    m_server.cutAfter = m_model.size() / 2;
    {
        ModelDownloader downloader;
        QString error;
        QVERIFY(!run(downloader, {file}, &error));
        QVERIFY2(error.contains(QStringLiteral("resume")), qPrintable(error));
        QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx")));
        const qint64 part = QFileInfo(m_target + QStringLiteral("/fastestdet-352.onnx.part")).size();
        QVERIFY2(part > 0 && part < m_model.size(), qPrintable(QString::number(part)));
    }
    const qint64 kept = QFileInfo(m_target + QStringLiteral("/fastestdet-352.onnx.part")).size();
    ModelDownloader downloader;
    QSignalSpy started(&downloader, &ModelDownloader::fileStarted);
    QString error;
    QVERIFY2(run(downloader, {file}, &error), qPrintable(error));
    QCOMPARE(started.first().at(1).toLongLong(), kept);
    QCOMPARE(m_server.rangeHeaders.last(), QByteArray("bytes=" + QByteArray::number(kept) + '-'));
    QCOMPARE(sha256Hex(readFile(m_target + QStringLiteral("/fastestdet-352.onnx"))), m_modelSha);
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx.part")));
}

void TestModelDownloader::serverWithoutRange_restartsTheFileCleanly()
{
    const DownloadFile file{QStringLiteral("fastestdet-352.onnx"), urlFor(QStringLiteral("fastestdet-352.onnx")), m_modelSha};
    QDir().mkpath(m_target);
    QFile part(m_target + QStringLiteral("/fastestdet-352.onnx.part"));
    QVERIFY(part.open(QIODevice::WriteOnly));
    part.write(m_model.left(1000));
    part.close();
    m_server.supportRange = false;
    ModelDownloader downloader;
    QString error;
    QVERIFY2(run(downloader, {file}, &error), qPrintable(error));
    QCOMPARE(m_server.rangeHeaders.last(), QByteArray("bytes=1000-"));
    QCOMPARE(sha256Hex(readFile(m_target + QStringLiteral("/fastestdet-352.onnx"))), m_modelSha);
}

void TestModelDownloader::offline_failsWithAClearReason()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        port = probe.serverPort();
    }
    ModelDownloader downloader;
    QString error;
    QVERIFY(!run(downloader,
                 {{QStringLiteral("fastestdet-352.onnx"), QUrl(QStringLiteral("http://127.0.0.1:%1/x").arg(port)), m_modelSha}},
                 &error));
    QVERIFY2(error.contains(QStringLiteral("refused")), qPrintable(error));
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx")));
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/fastestdet-352.onnx.part")) ||
            QFileInfo(m_target + QStringLiteral("/fastestdet-352.onnx.part")).size() == 0);
}

void TestModelDownloader::missingOnServer_saysHttp404()
{
    ModelDownloader downloader;
    QString error;
    QVERIFY(!run(downloader, {{QStringLiteral("gone.onnx"), urlFor(QStringLiteral("gone.onnx")), m_modelSha}}, &error));
    QVERIFY2(error.contains(QStringLiteral("404")), qPrintable(error));
    QVERIFY(!QFile::exists(m_target + QStringLiteral("/gone.onnx")));
}

void TestModelDownloader::verifiedFileAlreadyThere_isNotDownloadedAgain()
{
    QDir().mkpath(m_target);
    QFile existing(m_target + QStringLiteral("/fastestdet-352.onnx"));
    QVERIFY(existing.open(QIODevice::WriteOnly));
    existing.write(m_model);
    existing.close();
    ModelDownloader downloader;
    QSignalSpy skipped(&downloader, &ModelDownloader::fileSkipped);
    QString error;
    QVERIFY2(run(downloader,
                 {{QStringLiteral("fastestdet-352.onnx"), urlFor(QStringLiteral("fastestdet-352.onnx")), m_modelSha}},
                 &error),
             qPrintable(error));
    QCOMPARE(skipped.size(), 1);
    QCOMPARE(m_server.requests, 0);
}

QTEST_GUILESS_MAIN(TestModelDownloader)
#include "tst_modeldownloader.moc"
