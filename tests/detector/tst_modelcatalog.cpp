#include "models/modelcatalog.h"

#include "testdata.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

using namespace edgelens;

namespace {

// The catalog only checks that files exist; content is verified when a detector loads them.
void touch(const QString &path)
{
    QVERIFY(test::writeFile(path, "not really weights"));
}

std::optional<ModelManifest> byName(const ModelCatalog &catalog, const QString &name)
{
    for (const ModelManifest &m : catalog.all()) {
        if (m.name == name)
            return m;
    }
    return std::nullopt;
}

const char *kUserManifest = R"({
    "name": "my-ssd",
    "family": "caffe-ssd",
    "files": [{"name": "deploy.prototxt"}, {"name": "mobilenet.caffemodel"}],
    "input": {"width": 300, "height": 300},
    "preprocess": {"resize": "stretch", "scale": 0.007843, "mean": [1, 1, 1]},
    "class_names": ["background-free", "aeroplane"]
})";

// A catalog that searches only folder (and the cascades): no shared or installed models.
ModelCatalog::Options onlyIn(const QString &folder)
{
    qputenv("EDGELENS_MODEL_PATH", QFile::encodeName(folder));
    qputenv("EDGELENS_NO_SHARED_MODELS", "1");
    ModelCatalog::Options options;
    options.useInstalledFolder = false;
    return options;
}

} // namespace

class TestModelCatalog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setApplicationName(QStringLiteral("edgelens-catalog-test"));
        // Test mode keeps the user folder private to tests; start it empty.
        QDir(ModelCatalog::userModelDir()).removeRecursively();
    }

    void cleanup()
    {
        qunsetenv("EDGELENS_MODEL_PATH");
        qunsetenv("EDGELENS_NO_SHARED_MODELS");
        QDir(ModelCatalog::userModelDir()).removeRecursively();
    }

    void emptyModelPathAndNoSharedFolder_fallsBackToCascades()
    {
        EDGELENS_REQUIRE(QFileInfo::exists(QStringLiteral("/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml")),
                         QStringLiteral("Debian's opencv-data package is not installed"));
        QTemporaryDir empty;
        const ModelCatalog::Options options = onlyIn(empty.path());
        const ModelCatalog catalog(options);
        const auto model = catalog.defaultModel();
        QVERIFY(model);
        QCOMPARE(model->name, QStringLiteral("opencv-cascades"));
        QVERIFY(model->fallback);
        QVERIFY(model->isComplete());
        QVERIFY(!catalog.searchedLocations().contains(QDir::cleanPath(test::sharedPath(QStringLiteral("models")))));
        QVERIFY(catalog.searchedLocations().contains(QDir::cleanPath(empty.path())));
        const auto picodet = byName(catalog, QStringLiteral("picodet-s-320"));
        QVERIFY(picodet);
        QVERIFY(!picodet->isComplete());
        const QString help = catalog.describeSearch();
        QVERIFY2(help.contains(QDir::cleanPath(empty.path())), qPrintable(help));
        QVERIFY(help.contains(QStringLiteral("edgelens-cli models download picodet-s-320")));
        QVERIFY(help.contains(QStringLiteral("EDGELENS_MODEL_PATH")));
    }

    void sharedFolder_givesPicodetAsDefault()
    {
        const QString shared = test::sharedDir();
        EDGELENS_REQUIRE_SHARED(QStringLiteral("models/picodet-s-320/picodet_s_320_coco.onnx"));
        const ModelCatalog catalog;
        const auto model = catalog.defaultModel();
        QVERIFY(model);
        QCOMPARE(model->name, QStringLiteral("picodet-s-320"));
        QCOMPARE(ModelCatalog::defaultModelName(), QStringLiteral("picodet-s-320"));
        QVERIFY(!model->fallback);
        QCOMPARE(model->files[0].path,
                 QDir::cleanPath(shared + QStringLiteral("/models/picodet-s-320/picodet_s_320_coco.onnx")));
        for (const QString &name : {QStringLiteral("picodet-s-416"), QStringLiteral("nanodet-m-320"), QStringLiteral("yolox-nano-640"), QStringLiteral("yolo-fastest-xl-320"),
                                    QStringLiteral("fastestdet-352")}) {
            const auto m = catalog.find(name);
            QVERIFY2(m && m->isComplete(), qPrintable(name));
        }
    }

    void findComplete_namesWhatIsWrongAndHowToFixIt()
    {
        QTemporaryDir empty;
        const ModelCatalog::Options options = onlyIn(empty.path());
        const ModelCatalog catalog(options);
        QString error;
        QVERIFY(!catalog.findComplete(QStringLiteral("no-such-model"), &error));
        QVERIFY2(error.startsWith(QStringLiteral("unknown model \"no-such-model\"")), qPrintable(error));
        QVERIFY2(error.contains(QDir::cleanPath(empty.path())), qPrintable(error)); // where it looked
        error.clear();
        QVERIFY(!catalog.findComplete(QStringLiteral("picodet-s-320"), &error)); // known, weights absent
        QVERIFY2(error.contains(QStringLiteral("picodet-s-320 is missing picodet_s_320_coco.onnx")), qPrintable(error));
        QVERIFY2(error.contains(QStringLiteral("edgelens-cli models download picodet-s-320")), qPrintable(error));

        touch(QDir(empty.path()).filePath(QStringLiteral("picodet_s_320_coco.onnx")));
        const ModelCatalog found(options);
        const auto model = found.findComplete(QStringLiteral("picodet-s-320"), &error);
        QVERIFY2(model, qPrintable(error));
        QVERIFY(model->isComplete());
    }

    void modelPathFolders_areSearchedInOrderBeforeSharedFolder()
    {
        QTemporaryDir first;
        QTemporaryDir second;
        touch(second.filePath(QStringLiteral("nanodet-m-320/nanodet-m-320.onnx")));
        touch(first.filePath(QStringLiteral("nanodet-m-320.onnx"))); // flat layout also accepted
        qputenv("EDGELENS_MODEL_PATH", QFile::encodeName(first.path() + QDir::listSeparator() + second.path()));
        const ModelCatalog catalog;
        const QStringList roots = catalog.searchedLocations();
        const int firstIndex = int(roots.indexOf(QDir::cleanPath(first.path())));
        const int secondIndex = int(roots.indexOf(QDir::cleanPath(second.path())));
        QVERIFY(firstIndex >= 0 && secondIndex > firstIndex);
        const int sharedIndex = int(roots.indexOf(QDir::cleanPath(test::sharedPath(QStringLiteral("models")))));
        QVERIFY(sharedIndex > secondIndex);
        QVERIFY(roots.indexOf(QDir::cleanPath(ModelCatalog::userModelDir())) > sharedIndex);
        const auto model = catalog.find(QStringLiteral("nanodet-m-320"));
        QVERIFY(model);
        QCOMPARE(model->files[0].path, QDir::cleanPath(first.filePath(QStringLiteral("nanodet-m-320.onnx"))));
    }

    void explicitWeightsFile_winsOverEverything()
    {
        QTemporaryDir envDir;
        touch(envDir.filePath(QStringLiteral("nanodet-m-320/nanodet-m-320.onnx")));
        qputenv("EDGELENS_MODEL_PATH", QFile::encodeName(envDir.path()));
        QTemporaryDir mine;
        // the upstream file name, as a user who fetched it by hand would have it
        const QString weights = mine.filePath(QStringLiteral("fastestdet-352.onnx"));
        touch(weights);
        const ModelCatalog catalog(QStringList{weights});
        QCOMPARE(catalog.explicitModels().size(), 1);
        const auto model = catalog.defaultModel();
        QVERIFY(model);
        QCOMPARE(model->name, QStringLiteral("fastestdet-352"));
        QCOMPARE(model->files[0].path, QDir::cleanPath(weights));
        QVERIFY(catalog.problems().isEmpty());
    }

    void explicitFolder_offersTheModelsItHolds_andOnlyAddsAPlaceToLook()
    {
        QTemporaryDir dir;
        touch(dir.filePath(QStringLiteral("yolox-nano-640/yolox-nano-640.onnx")));
        const ModelCatalog catalog(QStringList{dir.path()});
        QCOMPARE(catalog.explicitModels().size(), 1);
        QCOMPARE(catalog.defaultModel()->name, QStringLiteral("yolox-nano-640"));
        QCOMPARE(catalog.searchedLocations().first(), QDir::cleanPath(dir.path()));

        QTemporaryDir empty;
        const ModelCatalog other(QStringList{empty.path()});
        QVERIFY(other.explicitModels().isEmpty());
        QCOMPARE(other.problems().size(), 1);
        QVERIFY(other.defaultModel()); // the usual search still applies
    }

    void upstreamFileName_isRecognised()
    {
        QTemporaryDir mine;
        const QString weights = mine.filePath(QStringLiteral("nanodet.onnx"));
        touch(weights);
        const ModelCatalog catalog(QStringList{weights});
        const auto model = catalog.defaultModel();
        QVERIFY(model);
        QCOMPARE(model->name, QStringLiteral("nanodet-m-320"));
        QCOMPARE(model->files[0].path, QDir::cleanPath(weights));
    }

    void userManifest_inModelPath_isListedWithResolvedFiles()
    {
        QTemporaryDir dir;
        QVERIFY(test::writeFile(dir.filePath(QStringLiteral("my-ssd/my-ssd.json")), kUserManifest));
        touch(dir.filePath(QStringLiteral("my-ssd/deploy.prototxt")));
        qputenv("EDGELENS_MODEL_PATH", QFile::encodeName(dir.path()));
        const ModelCatalog catalog;
        const auto model = catalog.find(QStringLiteral("my-ssd"));
        QVERIFY(model);
        QCOMPARE(model->files[0].path, QDir::cleanPath(dir.filePath(QStringLiteral("my-ssd/deploy.prototxt"))));
        QVERIFY(!model->isComplete());
        QCOMPARE(model->missingFiles(), QStringList{QStringLiteral("mobilenet.caffemodel")});
    }

    void explicitManifest_becomesTheDefault()
    {
        QTemporaryDir dir;
        const QString manifest = dir.filePath(QStringLiteral("ssd.json"));
        QVERIFY(test::writeFile(manifest, kUserManifest));
        touch(dir.filePath(QStringLiteral("deploy.prototxt")));
        touch(dir.filePath(QStringLiteral("mobilenet.caffemodel")));
        const ModelCatalog catalog(QStringList{manifest});
        const auto model = catalog.defaultModel();
        QVERIFY(model);
        QCOMPARE(model->name, QStringLiteral("my-ssd"));
        QVERIFY(model->isComplete());
        QCOMPARE(catalog.find(manifest)->name, QStringLiteral("my-ssd"));
    }

    void brokenUserManifest_isReportedNotFatal()
    {
        QTemporaryDir dir;
        QVERIFY(test::writeFile(dir.filePath(QStringLiteral("broken.json")),
                                R"({"name": "x", "family": "yolov5", "files": [{"name": "x.onnx"}], "input": {"width": 1, "height": 1},
                      "preprocess": {"mean": [1, 2]}, "class_names": "coco"})"));
        qputenv("EDGELENS_MODEL_PATH", QFile::encodeName(dir.path()));
        const ModelCatalog catalog;
        QVERIFY(!catalog.find(QStringLiteral("x")));
        QCOMPARE(catalog.problems().size(), 1);
        QVERIFY2(catalog.problems().first().startsWith(QStringLiteral("broken.json: preprocess.mean: expected 3 numbers")),
                 qPrintable(catalog.problems().first()));
        QVERIFY(catalog.describeSearch().contains(QStringLiteral("broken.json")));
    }

    void missingExplicitPath_isAProblemNotACrash()
    {
        const ModelCatalog catalog(QStringList{QStringLiteral("/nonexistent/model.onnx")});
        QVERIFY(catalog.explicitModels().isEmpty());
        QVERIFY(!catalog.defaultModel()); // never silently another model than the one asked for
        QVERIFY(catalog.describeSearch().contains(QStringLiteral("/nonexistent/model.onnx")));
        QVERIFY(catalog.problems().first().contains(QStringLiteral("/nonexistent/model.onnx")));
        const ModelCatalog unknown(QStringList{QFINDTESTDATA("CMakeLists.txt")});
        QVERIFY(unknown.explicitModels().isEmpty());
        QVERIFY(unknown.problems().first().contains(QStringLiteral("no manifest describes")));
    }

    void verifyFile_checksTheSha256()
    {
        EDGELENS_REQUIRE(QFileInfo::exists(QStringLiteral("/usr/share/opencv4/haarcascades/haarcascade_fullbody.xml")),
                         QStringLiteral("Debian's opencv-data package is not installed"));
        const ModelCatalog catalog;
        auto cascades = catalog.find(QStringLiteral("opencv-cascades"));
        QVERIFY(cascades && cascades->isComplete());
        QString error;
        QVERIFY2(ModelCatalog::verifyFile(cascades->files[0], &error), qPrintable(error));
        QTemporaryDir dir;
        ModelFile wrong = cascades->files[0];
        wrong.path = dir.filePath(QStringLiteral("haarcascade_fullbody.xml"));
        touch(wrong.path);
        QVERIFY(!ModelCatalog::verifyFile(wrong, &error));
        QVERIFY2(error.contains(QStringLiteral("sha256")), qPrintable(error));
        wrong.path.clear();
        QVERIFY(!ModelCatalog::verifyFile(wrong, &error));
    }

    void userModelDir_isSearchedAndFollowsTestMode()
    {
        const QString userDir = ModelCatalog::userModelDir();
        QVERIFY(userDir.endsWith(QStringLiteral("/models")));
        touch(userDir + QStringLiteral("/yolox-nano-640/yolox-nano-640.onnx"));
        qputenv("EDGELENS_NO_SHARED_MODELS", "1");
        ModelCatalog::Options options;
        options.useInstalledFolder = false;
        const ModelCatalog catalog(options);
        const auto model = catalog.defaultModel();
        QVERIFY(model);
        QCOMPARE(model->name, QStringLiteral("yolox-nano-640"));
    }
};

QTEST_GUILESS_MAIN(TestModelCatalog)
#include "tst_modelcatalog.moc"
