#include "client/detectionclient.h"

#include "flakyserver.h"
#include "httptestserver.h"
#include "isolateduserstate.h"
#include "legacytestserver.h"
#include "processrunner.h"
#include "testdata.h"

#include <QColor>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using edgelens::test::filesUnder;
using edgelens::test::ProcessRun;

class TestCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void embeddedJson_onSamples_writesNinePairs_soccerHasAPerson();
    void badFileInTheSet_exitsNonZero_othersStillWritten();
    void folderStructure_isKeptInTheOutput();
    void remoteLegacyServer_autoFallsBack_andWritesImages();
    void connectionRefused_namesTheReason_exitsNonZero();
    void deviceGoneForAWhile_imagesWaitAndAllGetDone();
    void unknownModel_printsWhereItLooked_exitsTwo();
    void noPaths_isAUsageError();
    void modelsList_showsTheSharedModelsFound();
    void modelsVerify_checksTheSharedFiles();
    void modelsDownload_userManifest_fetchesIntoTheUserFolder();
    void modelsCheck_reportsTheDefaultModel();
    void modelsCheck_wrongManifest_warns();

private:
    ProcessRun runCli(const QStringList &arguments, const QString &workingDir = QString(), int timeoutMs = 120000,
                      const QHash<QString, QString> &extraEnv = {});
    QString m_cli;
    QString m_samples;
    edgelens::test::IsolatedUserState m_dir; // working folder and the CLI's per-user data
};

void TestCli::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_cli = edgelens::test::executablePath(QStringLiteral("edgelens-cli"));
    QVERIFY2(QFileInfo(m_cli).isExecutable(), qPrintable(m_cli));
    m_samples = edgelens::test::samplesDir();
    EDGELENS_REQUIRE_SHARED(QStringLiteral("data/samples/soccer.jpg"));
}

ProcessRun TestCli::runCli(const QStringList &arguments, const QString &workingDir, int timeoutMs,
                           const QHash<QString, QString> &extraEnv)
{
    edgelens::test::ProcessOptions options;
    options.workingDirectory = workingDir.isEmpty() ? m_dir.path() : workingDir;
    options.timeoutMs = timeoutMs;
    // The CLI writes to the user's data folder only for `models download`; keep the rest of
    // its per-user state away from the real home as well.
    options.environment = m_dir.childEnvironment();
    options.environment.insert(extraEnv);
    return edgelens::test::runProcess(m_cli, arguments, options);
}

void TestCli::embeddedJson_onSamples_writesNinePairs_soccerHasAPerson()
{
    const QString out = m_dir.filePath(QStringLiteral("samples-out"));
    const ProcessRun run = runCli({QStringLiteral("--embedded"), QStringLiteral("--json"), QStringLiteral("--output"), out, m_samples});
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QCOMPARE(filesUnder(out, {QStringLiteral("*.jpg")}).size(), 9);
    QCOMPARE(filesUnder(out, {QStringLiteral("*.json")}).size(), 9);
    QVERIFY2(run.out.startsWith(QStringLiteral("9 images, 0 failed, ")), qPrintable(run.out));
    QVERIFY(run.out.trimmed().endsWith(QStringLiteral("images/s")));

    QFile file(out + QStringLiteral("/soccer.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(json.value(QStringLiteral("width")).toInt(), 600);
    QCOMPARE(json.value(QStringLiteral("height")).toInt(), 400);
    QCOMPARE(json.value(QStringLiteral("image")).toString(), QDir(m_samples).absoluteFilePath(QStringLiteral("soccer.jpg")));
    // Not the ephemeral port it had: that names nothing once the run is over.
    QCOMPARE(json.value(QStringLiteral("device")).toString(), QStringLiteral("embedded"));
    bool person = false;
    for (const QJsonValue &value : json.value(QStringLiteral("detections")).toArray()) {
        const QJsonObject d = value.toObject();
        if (d.value(QStringLiteral("label")).toString() == QLatin1String("person")) {
            person = true;
            QCOMPARE(d.value(QStringLiteral("class_id")).toInt(), 0);
            QCOMPARE(d.value(QStringLiteral("box")).toArray().size(), 4);
        }
    }
    QVERIFY(person);
    QCOMPARE(QImage(out + QStringLiteral("/soccer.jpg")).size(), QSize(600, 400));
}

void TestCli::badFileInTheSet_exitsNonZero_othersStillWritten()
{
    const QString in = m_dir.filePath(QStringLiteral("mixed"));
    QDir().mkpath(in);
    QVERIFY(QFile::copy(m_samples + QStringLiteral("/soccer.jpg"), in + QStringLiteral("/soccer.jpg")));
    QVERIFY(QFile::copy(m_samples + QStringLiteral("/images.jpg"), in + QStringLiteral("/images.jpg")));
    QFile broken(in + QStringLiteral("/broken.jpg"));
    QVERIFY(broken.open(QIODevice::WriteOnly));
    broken.write("this is not a JPEG at all, just text pretending to be one");
    broken.close();

    const QString out = m_dir.filePath(QStringLiteral("mixed-out"));
    const ProcessRun run = runCli({QStringLiteral("--json"), QStringLiteral("--output"), out, in});
    QCOMPARE(run.exitCode, 1);
    QCOMPARE(filesUnder(out, {QStringLiteral("*.jpg")}), QStringList({QStringLiteral("images.jpg"), QStringLiteral("soccer.jpg")}));
    QVERIFY2(run.err.contains(QStringLiteral("broken.jpg: FAILED:")), qPrintable(run.err));
    QVERIFY2(run.out.startsWith(QStringLiteral("3 images, 1 failed, ")), qPrintable(run.out));
    // The input folder is untouched.
    QCOMPARE(QDir(in).entryList(QDir::Files).size(), 3);
}

void TestCli::folderStructure_isKeptInTheOutput()
{
    const QString in = m_dir.filePath(QStringLiteral("tree"));
    QDir().mkpath(in + QStringLiteral("/a/b"));
    QVERIFY(QFile::copy(m_samples + QStringLiteral("/example_02.jpg"), in + QStringLiteral("/top.jpg")));
    QVERIFY(QFile::copy(m_samples + QStringLiteral("/example_02.jpg"), in + QStringLiteral("/a/b/deep.jpg")));
    // Output inside the input folder: it must not be scanned on a second run.
    const ProcessRun first = runCli({QStringLiteral("--quiet"), QStringLiteral("tree")}, m_dir.path());
    QVERIFY2(first.exitCode == 0, qPrintable(first.err));
    const QString out = m_dir.filePath(QStringLiteral("inferenced"));
    QCOMPARE(filesUnder(out, {QStringLiteral("*.jpg")}), QStringList({QStringLiteral("a/b/deep.jpg"), QStringLiteral("top.jpg")}));

    const ProcessRun second = runCli({QStringLiteral("--quiet"), QStringLiteral("--output"), QStringLiteral("tree/out"),
                               QStringLiteral("tree")},
                              m_dir.path());
    QVERIFY2(second.exitCode == 0, qPrintable(second.err));
    const ProcessRun third = runCli({QStringLiteral("--quiet"), QStringLiteral("--output"), QStringLiteral("tree/out"),
                              QStringLiteral("tree")},
                             m_dir.path());
    QVERIFY2(third.out.startsWith(QStringLiteral("2 images")), qPrintable(third.out));
}

void TestCli::remoteLegacyServer_autoFallsBack_andWritesImages()
{
    edgelens::test::LegacyTestServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    const QString out = m_dir.filePath(QStringLiteral("legacy-out"));
    const ProcessRun run = runCli({QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                            QString::number(server.serverPort()), QStringLiteral("--json"), QStringLiteral("--output"), out,
                            m_samples + QStringLiteral("/soccer.jpg"), m_samples + QStringLiteral("/images.jpg")},
                           QString(), 30000);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QVERIFY2(run.err.contains(QStringLiteral("legacy")), qPrintable(run.err));
    QCOMPARE(filesUnder(out, {QStringLiteral("*.jpg")}).size(), 2);
    QFile file(out + QStringLiteral("/soccer.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject json = QJsonDocument::fromJson(file.readAll()).object();
    QCOMPARE(json.value(QStringLiteral("has_detection_data")).toBool(true), false);
    QCOMPARE(json.value(QStringLiteral("width")).toInt(), 600);
    QCOMPARE(server.answered, 2);
}

void TestCli::connectionRefused_namesTheReason_exitsNonZero()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        probe.listen(QHostAddress::LocalHost, 0);
        port = probe.serverPort();
    }
    const QString out = m_dir.filePath(QStringLiteral("refused-out"));
    const ProcessRun run = runCli({QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                            QString::number(port), QStringLiteral("--retries"), QStringLiteral("0"), QStringLiteral("--output"),
                            out, m_samples + QStringLiteral("/soccer.jpg")},
                           QString(), 30000);
    QCOMPARE(run.exitCode, 1);
    QVERIFY2(run.err.contains(QStringLiteral("Connection refused: is the server running on 127.0.0.1:%1?").arg(port)),
             qPrintable(run.err));
    QVERIFY(!QFileInfo::exists(out + QStringLiteral("/soccer.jpg")));
}

void TestCli::deviceGoneForAWhile_imagesWaitAndAllGetDone()
{
    // The device answers two images, then goes away for longer than the client's reconnects
    // last (--retries 1: two failed connections hand the images back), and comes back: the
    // run waits through it (the one outage policy the app uses too) instead of failing them.
    FlakyServer server;
    server.outageAfterAnswers = 2;
    server.outageConnections = 6;
    QVERIFY(server.listen());
    const QString in = m_dir.filePath(QStringLiteral("outage-in"));
    QVERIFY(QDir().mkpath(in));
    for (int i = 0; i < 6; ++i) {
        QImage image(48, 32, QImage::Format_RGB32);
        image.fill(QColor::fromHsv(i * 50, 200, 200));
        QVERIFY(image.save(QDir(in).filePath(QStringLiteral("p%1.jpg").arg(i))));
    }
    const QString out = m_dir.filePath(QStringLiteral("outage-out"));
    const ProcessRun run = runCli({QStringLiteral("--host"), QStringLiteral("127.0.0.1"), QStringLiteral("--port"),
                                   QString::number(server.port()), QStringLiteral("--protocol"), QStringLiteral("v2"),
                                   QStringLiteral("--retries"), QStringLiteral("1"), QStringLiteral("--concurrency"),
                                   QStringLiteral("1"), QStringLiteral("--output"), out, in},
                                  QString(), 90000);
    QVERIFY2(run.exitCode == 0, qPrintable(run.err));
    QCOMPARE(server.cutInOutage, server.outageConnections); // the outage did happen, all of it
    QVERIFY2(run.err.contains(QStringLiteral("connection lost")), qPrintable(run.err));
    QVERIFY2(run.out.contains(QStringLiteral("6 images, 0 failed")), qPrintable(run.out));
    for (int i = 0; i < 6; ++i)
        QVERIFY(QFileInfo::exists(QDir(out).filePath(QStringLiteral("p%1.jpg").arg(i))));
}

void TestCli::unknownModel_printsWhereItLooked_exitsTwo()
{
    const ProcessRun run = runCli({QStringLiteral("--embedded"), QStringLiteral("--model"),
                            m_dir.filePath(QStringLiteral("no/such/model.onnx")), m_samples + QStringLiteral("/soccer.jpg")});
    QCOMPARE(run.exitCode, 2);
    QVERIFY2(run.err.contains(QStringLiteral("models download")), qPrintable(run.err));
}

void TestCli::noPaths_isAUsageError()
{
    const ProcessRun run = runCli({});
    QCOMPARE(run.exitCode, 64);
    QVERIFY(run.err.contains(QStringLiteral("no images given")));
}

void TestCli::modelsList_showsTheSharedModelsFound()
{
    const ProcessRun run = runCli({QStringLiteral("models"), QStringLiteral("list")});
    QCOMPARE(run.exitCode, 0);
    const QStringList lines = run.out.split(QLatin1Char('\n'));
    bool picodet = false; // the default, marked *
    bool nanodet = false;
    for (const QString &line : lines) {
        if (line.startsWith(QStringLiteral("picodet-s-320 *"))) {
            picodet = true;
            QVERIFY2(line.contains(QStringLiteral("found")) && line.contains(QStringLiteral("320x320"))
                         && line.contains(QStringLiteral("picodet")) && line.contains(QStringLiteral("  0.383  ")),
                     qPrintable(line));
            // MS/IMAGE: measured now, a number
            const QStringList columns = line.simplified().split(QLatin1Char(' '));
            QVERIFY2(columns.size() > 5 && columns.at(4).toDouble() > 0, qPrintable(line));
        }
        if (line.startsWith(QStringLiteral("nanodet-m-320 "))) {
            nanodet = true;
            QVERIFY2(line.contains(QStringLiteral("found")) && !line.startsWith(QStringLiteral("nanodet-m-320 *")),
                     qPrintable(line));
        }
    }
    QVERIFY2(picodet && nanodet, qPrintable(run.out));
}

void TestCli::modelsVerify_checksTheSharedFiles()
{
    const ProcessRun run = runCli({QStringLiteral("models"), QStringLiteral("verify"), QStringLiteral("nanodet-m-320"),
                            QStringLiteral("fastestdet-352")});
    QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
    QVERIFY2(run.out.contains(QStringLiteral("nanodet-m-320  nanodet-m-320.onnx  ok")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("fastestdet-352  fastestdet-352.onnx  ok")), qPrintable(run.out));

    // A model folder with a corrupted copy is reported and fails.
    const QString folder = m_dir.filePath(QStringLiteral("badmodels/fastestdet-352"));
    QVERIFY(edgelens::test::writeFile(folder + QStringLiteral("/fastestdet-352.onnx"), "corrupted"));
    const ProcessRun bad = runCli({QStringLiteral("models"), QStringLiteral("verify"), QStringLiteral("--model-path"), folder,
                            QStringLiteral("fastestdet-352")});
    QVERIFY2(bad.exitCode == 1, qPrintable(bad.out + bad.err));
    QVERIFY2(bad.out.contains(QStringLiteral("MISMATCH")), qPrintable(bad.out));

    // Asking to verify a model whose files are nowhere on the search path fails and says how to get it.
    const QHash<QString, QString> noShared{{QStringLiteral("EDGELENS_NO_SHARED_MODELS"), QStringLiteral("1")},
                                           {QStringLiteral("EDGELENS_MODEL_PATH"), m_dir.filePath(QStringLiteral("empty"))}};
    const ProcessRun missing = runCli({QStringLiteral("models"), QStringLiteral("verify"), QStringLiteral("nanodet-m-320")},
                                      QString(), 60000, noShared);
    QVERIFY2(missing.exitCode == 1, qPrintable(missing.out + missing.err));
    QVERIFY2(missing.out.contains(QStringLiteral("missing (get it with `edgelens-cli models download nanodet-m-320`)")),
             qPrintable(missing.out));
}

void TestCli::modelsCheck_reportsTheDefaultModel()
{
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/picodet-s-320/picodet_s_320_coco.onnx"));
    const ProcessRun run = runCli({QStringLiteral("models"), QStringLiteral("check"), QStringLiteral("picodet-s-320"),
                                   QStringLiteral("--images"), m_samples});
    QVERIFY2(run.exitCode == 0, qPrintable(run.out + run.err));
    QVERIFY2(run.out.contains(QStringLiteral("model     picodet-s-320 (family picodet)")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("picodet_s_320_coco.onnx (sha256 ok)")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("input     320x320, stretch, RGB")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("[1, 1600, 80]")) && run.out.contains(QStringLiteral("[1, 25, 32]")),
             qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("images    9\n")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("ms median per image")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("scores    0.000 .. 0.9")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("at the default confidence 0.40")), qPrintable(run.out));
    QVERIFY2(!run.out.contains(QStringLiteral("warning")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("no sign of a mismatch")), qPrintable(run.out));
    // the rewrite that made it load is said, not hidden
    QVERIFY2(run.err.contains(QStringLiteral("87 Clip node(s)")), qPrintable(run.err));
}

void TestCli::modelsCheck_wrongManifest_warns()
{
    EDGELENS_REQUIRE_SHARED(QStringLiteral("models/picodet-s-320/picodet_s_320_coco.onnx"));
    // PicoDet's weights fed as raw 0..255 BGR: loads and runs, and finds boxes everywhere.
    const QString manifest = m_dir.filePath(QStringLiteral("wrong/wrong-pico.json"));
    QVERIFY(edgelens::test::writeFile(manifest, R"({"name": "wrong-pico", "family": "picodet",
        "files": [{"name": "picodet_s_320_coco.onnx"}], "input": {"width": 320, "height": 320},
        "preprocess": {"resize": "stretch"}, "default_confidence": 0.4, "class_names": "coco"})"));
    const ProcessRun run = runCli({QStringLiteral("models"), QStringLiteral("check"), manifest, QStringLiteral("--model-path"),
                                   edgelens::test::sharedPath(QStringLiteral("models/picodet-s-320")),
                                   QStringLiteral("--images"), m_samples});
    QVERIFY2(run.exitCode == 1, qPrintable(run.out + run.err));
    QVERIFY2(run.out.contains(QStringLiteral("model     wrong-pico (family picodet)")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("no checksum in the manifest")), qPrintable(run.out));
    QVERIFY2(run.out.contains(QStringLiteral("warning: 100 boxes on one image at the default confidence 0.4")),
             qPrintable(run.out));
    QVERIFY2(!run.out.contains(QStringLiteral("no sign of a mismatch")), qPrintable(run.out));

    // A model that cannot load says why, and a name nobody knows is an error too.
    const ProcessRun unknown = runCli({QStringLiteral("models"), QStringLiteral("check"), QStringLiteral("no-such-model")});
    QCOMPARE(unknown.exitCode, 1);
    QVERIFY2(unknown.err.contains(QStringLiteral("no-such-model: no such model")), qPrintable(unknown.err));
}

void TestCli::modelsDownload_userManifest_fetchesIntoTheUserFolder()
{
    const QByteArray bytes =
        edgelens::test::readFile(edgelens::test::sharedPath(QStringLiteral("models/fastestdet-352/fastestdet-352.onnx")));
    QVERIFY(!bytes.isEmpty());
    const QString sha = edgelens::test::sha256Hex(bytes);
    edgelens::test::HttpTestServer http;
    http.files.insert(QStringLiteral("FastestDet.onnx"), bytes);
    QVERIFY(http.listen(QHostAddress::LocalHost, 0));

    // A user manifest (docs/MODELS.md) whose file comes from the loopback server.
    const QString manifests = m_dir.filePath(QStringLiteral("user-manifests"));
    const QJsonObject manifest{
        {QStringLiteral("name"), QStringLiteral("tiny-fastestdet")},
        {QStringLiteral("family"), QStringLiteral("fastestdet")},
        {QStringLiteral("files"),
         QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("tiny.onnx")},
                                {QStringLiteral("sha256"), sha},
                                {QStringLiteral("url"),
                                 QStringLiteral("http://127.0.0.1:%1/FastestDet.onnx").arg(http.serverPort())}}}},
        {QStringLiteral("input"), QJsonObject{{QStringLiteral("width"), 352}, {QStringLiteral("height"), 352}}},
        {QStringLiteral("preprocess"),
         QJsonObject{{QStringLiteral("resize"), QStringLiteral("stretch")}, {QStringLiteral("scale"), 1.0 / 255.0}}},
        {QStringLiteral("class_names"), QStringLiteral("coco")},
    };
    QVERIFY(edgelens::test::writeFile(manifests + QStringLiteral("/tiny-fastestdet.json"), QJsonDocument(manifest).toJson()));
    const QHash<QString, QString> env{{QStringLiteral("EDGELENS_MODEL_PATH"), manifests}};

    const ProcessRun download = runCli(
        {QStringLiteral("models"), QStringLiteral("download"), QStringLiteral("tiny-fastestdet")}, QString(), 60000, env);
    QVERIFY2(download.exitCode == 0, qPrintable(download.err));
    const QString saved = m_dir.dataHome() + QStringLiteral("/edgelens/models/tiny-fastestdet/tiny.onnx");
    QVERIFY2(edgelens::test::readFile(saved) == bytes, qPrintable(download.err));
    QVERIFY(!QFileInfo::exists(saved + QStringLiteral(".part")));

    const ProcessRun list = runCli({QStringLiteral("models"), QStringLiteral("list")}, QString(), 60000, env);
    bool found = false;
    for (const QString &line : list.out.split(QLatin1Char('\n')))
        found = found || (line.startsWith(QStringLiteral("tiny-fastestdet")) && line.contains(QStringLiteral("found")));
    QVERIFY2(found, qPrintable(list.out + list.err));
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
