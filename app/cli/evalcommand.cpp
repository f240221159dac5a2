#include "evalcommand.h"

#include "console.h"

#include "models/modelcatalog.h"
#include "eval/evaldataset.h"
#include "evalrun/modelevaluation.h"

#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

#include <cmath>
#include <variant>

#include <unistd.h>

using namespace edgelens;

namespace {

enum ExitCode { Scored = 0, CannotScore = 1, Usage = 2 };

// QCommandLineParser's usage line names only the program; this is its eval command.
QString helpText(const QCommandLineParser &parser)
{
    QString text = parser.helpText();
    const qsizetype at = text.indexOf(QLatin1String(" [options]"));
    if (at >= 0)
        text.insert(at, QLatin1String(" eval"));
    return text;
}

int usageError(const QCommandLineParser &parser, const QString &message)
{
    cli::standardError() << "edgelens-cli eval: " << message << "\n\n" << helpText(parser) << Qt::flush;
    return Usage;
}

int failure(const QString &message)
{
    cli::standardError() << "edgelens-cli eval: " << message << '\n' << Qt::flush;
    return CannotScore;
}

bool writeReport(const QString &path, const QByteArray &content, QString *error)
{
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size() || !file.commit()) {
        *error = QStringLiteral("%1: cannot write the report: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

// The manifest the model came from with "accuracy" set, written where the catalog reads it: the
// user's own manifest in place; for a built-in one, a copy in the per-user model folder (a
// user manifest of the same name replaces the built-in one). Returns the path written.
QString recordAccuracy(const ModelManifest &manifest, const EvalRun &run, const QString &dataset, QString *error)
{
    QFile source(manifest.manifestPath);
    if (!source.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("%1: cannot read the manifest to record the accuracy in: %2")
                     .arg(manifest.manifestPath, source.errorString());
        return {};
    }
    QJsonObject object = QJsonDocument::fromJson(source.read(1024 * 1024)).object();
    ModelManifest::Accuracy accuracy;
    accuracy.map = std::round(run.summary.map * 10000) / 10000;
    accuracy.ap50 = std::round(run.summary.ap50 * 10000) / 10000;
    accuracy.dataset = dataset;
    object.insert(QStringLiteral("accuracy"), accuracy.toJson());
    const bool builtIn = manifest.manifestPath.startsWith(QLatin1Char(':'));
    const QString target = builtIn ? QDir(ModelCatalog::userModelDir()).filePath(manifest.name + QStringLiteral(".json"))
                                   : manifest.manifestPath;
    if (builtIn && !QDir().mkpath(ModelCatalog::userModelDir())) {
        *error = QStringLiteral("%1: cannot create the folder").arg(ModelCatalog::userModelDir());
        return {};
    }
    if (!writeReport(target, QJsonDocument(object).toJson(QJsonDocument::Indented), error))
        return {};
    return target;
}

// What the command line asked for, checked.
struct EvalArguments
{
    QString model;       // empty: the default model
    QString images;
    QString annotations;
    QString predictions; // non-empty: score an earlier run's sidecars instead of a model
    QString backend;
    QString output;
    double conf = 0.001;
    int maxDet = 100;
    int jobs = 1;
    double nms = -1; // the model's own
    bool json = false;
    bool recordAccuracy = false;
};

void addEvalOptions(QCommandLineParser &parser)
{
    parser.setApplicationDescription(QStringLiteral(
        "Scores a detection model with COCO-style mAP (pycocotools conventions): runs the model on every\n"
        "image of --images, or reads the sidecars of an earlier `edgelens-cli --json` run (--predictions),\n"
        "and compares with the ground truth (a COCO instances JSON file, or a folder of YOLO txt labels)."));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("model"),
         QStringLiteral("Model name, manifest, model folder or weights file (default: the default model)."),
         QStringLiteral("name")},
        {QStringLiteral("images"), QStringLiteral("Folder of images (required)."), QStringLiteral("dir")},
        {QStringLiteral("annotations"),
         QStringLiteral("COCO instances JSON file, or folder of YOLO txt labels (<image stem>.txt) (required)."),
         QStringLiteral("file|dir")},
        {QStringLiteral("predictions"),
         QStringLiteral("Score the JSON sidecars in this folder instead of running a model."), QStringLiteral("dir")},
        {QStringLiteral("conf"), QStringLiteral("Score threshold (default 0.001: COCO practice)."),
         QStringLiteral("value"), QStringLiteral("0.001")},
        {QStringLiteral("max-det"), QStringLiteral("Detections kept per image (default 100)."), QStringLiteral("n"),
         QStringLiteral("100")},
        {QStringLiteral("nms-iou"), QStringLiteral("NMS IoU threshold (default: the model's own)."),
         QStringLiteral("value")},
        {QStringLiteral("jobs"),
         QStringLiteral("Worker threads, each with its own copy of the model (default 1; per-image times then "
                        "include waiting)."),
         QStringLiteral("n"), QStringLiteral("1")},
        {QStringLiteral("backend"), QStringLiteral("Inference backend: opencv, openvino, cuda."),
         QStringLiteral("name")},
        {QStringLiteral("json"), QStringLiteral("Print the report as JSON.")},
        {QStringLiteral("output"), QStringLiteral("Also write the report to this file (JSON with --json)."),
         QStringLiteral("file")},
        {QStringLiteral("record-accuracy"),
         QStringLiteral("Write the mAP into the model's manifest as \"accuracy\" (a built-in model gets a copy in "
                        "your model folder); shown by `models list`, the app and the server.")},
    });
}

// The report must never land on an input: not the annotations, nothing inside the folders read.
QString inputTheOutputWouldHit(const EvalArguments &a)
{
    const QString output = QFileInfo(a.output).absoluteFilePath();
    const QString outputCanonical =
        QFileInfo(QFileInfo(output).absolutePath()).canonicalFilePath() + QLatin1Char('/') + QFileInfo(output).fileName();
    QStringList inputs{a.images, a.annotations};
    if (!a.predictions.isEmpty())
        inputs.append(a.predictions);
    for (const QString &input : std::as_const(inputs)) {
        const QFileInfo info(input);
        const QString path = info.exists() ? info.canonicalFilePath() : info.absoluteFilePath();
        if (outputCanonical == path || (info.isDir() && outputCanonical.startsWith(path + QLatin1Char('/'))))
            return input;
    }
    return {};
}

// The arguments, or an exit code: Scored after --help, Usage with the reason printed.
std::variant<EvalArguments, int> parseEvalArguments(const QStringList &arguments)
{
    QCommandLineParser parser;
    addEvalOptions(parser);
    if (!parser.parse(QStringList{QStringLiteral("edgelens-cli eval")} + arguments))
        return usageError(parser, parser.errorText());
    if (parser.isSet(QStringLiteral("help"))) {
        cli::standardOutput() << helpText(parser) << Qt::flush;
        return Scored;
    }
    if (!parser.positionalArguments().isEmpty())
        return usageError(parser, QStringLiteral("unexpected argument \"%1\"").arg(parser.positionalArguments().first()));
    EvalArguments a;
    a.model = parser.value(QStringLiteral("model"));
    a.images = parser.value(QStringLiteral("images"));
    a.annotations = parser.value(QStringLiteral("annotations"));
    a.predictions = parser.value(QStringLiteral("predictions"));
    a.backend = parser.value(QStringLiteral("backend"));
    a.output = parser.value(QStringLiteral("output"));
    a.json = parser.isSet(QStringLiteral("json"));
    a.recordAccuracy = parser.isSet(QStringLiteral("record-accuracy"));
    if (a.images.isEmpty() || a.annotations.isEmpty())
        return usageError(parser, QStringLiteral("--images and --annotations are required"));
    if (!a.predictions.isEmpty() && (!a.model.isEmpty() || !a.backend.isEmpty()))
        return usageError(parser, QStringLiteral("--predictions scores an earlier run; it does not take --model or --backend"));
    if (!a.output.isEmpty()) {
        if (const QString input = inputTheOutputWouldHit(a); !input.isEmpty())
            return usageError(parser, QStringLiteral("--output %1 would write over or into an input (%2)").arg(a.output, input));
    }

    bool ok = false;
    a.conf = parser.value(QStringLiteral("conf")).toDouble(&ok);
    if (!ok || a.conf < 0 || a.conf > 1)
        return usageError(parser, QStringLiteral("--conf: expected a number from 0 to 1"));
    a.maxDet = parser.value(QStringLiteral("max-det")).toInt(&ok);
    if (!ok || a.maxDet < 1 || a.maxDet > 10000)
        return usageError(parser, QStringLiteral("--max-det: expected a whole number from 1 to 10000"));
    a.jobs = parser.value(QStringLiteral("jobs")).toInt(&ok);
    if (!ok || a.jobs < 1 || a.jobs > 64)
        return usageError(parser, QStringLiteral("--jobs: expected a whole number from 1 to 64"));
    if (a.recordAccuracy && (!a.predictions.isEmpty() || a.conf > 0.01 || a.maxDet != 100))
        return usageError(parser, QStringLiteral("--record-accuracy records a model's own run at COCO practice "
                                                 "(--conf 0.01 or less, --max-det 100), not --predictions"));
    if (parser.isSet(QStringLiteral("nms-iou"))) {
        a.nms = parser.value(QStringLiteral("nms-iou")).toDouble(&ok);
        if (!ok || a.nms <= 0 || a.nms > 1)
            return usageError(parser, QStringLiteral("--nms-iou: expected a number above 0, at most 1"));
    }
    return a;
}

std::optional<EvalRun> runModel(const ModelManifest &manifest, const EvalDataset &dataset, const EvalArguments &a,
                                QString *error)
{
    EvalRunOptions options;
    options.confidence = float(a.conf);
    options.maxDetections = a.maxDet;
    options.nmsIou = float(a.nms);
    options.jobs = a.jobs;
    options.backend = a.backend;
    if (manifest.fallback || manifest.family == QLatin1String("cascade"))
        cli::standardError() << "warning: " << manifest.name << " is the last-resort cascade detector; its classes are not "
                             << "the annotations' and its scores mean little\n";
    const bool showProgress = isatty(STDERR_FILENO);
    cli::standardError() << "scoring " << manifest.name << " on " << dataset.images.size() << " images" << Qt::endl;
    return ModelEvaluation::runDetector(manifest, dataset, options, error, [showProgress](int done, int total) {
        if (showProgress)
            cli::standardError() << '\r' << done << '/' << total << (done == total ? "\n" : "") << Qt::flush;
    });
}

// The dataset's name for the manifest: coco128-train for coco128-train/images.
QString datasetName(const QString &imagesDir)
{
    const QFileInfo images(QDir::cleanPath(QFileInfo(imagesDir).absoluteFilePath()));
    return images.fileName() == QLatin1String("images") ? QFileInfo(images.path()).fileName() : images.fileName();
}

} // namespace

int runEvalCommand(const QStringList &arguments)
{
    const std::variant<EvalArguments, int> parsed = parseEvalArguments(arguments);
    if (const int *code = std::get_if<int>(&parsed))
        return *code;
    const EvalArguments &a = std::get<EvalArguments>(parsed);

    QString error;
    std::optional<ModelManifest> manifest;
    if (a.predictions.isEmpty()) {
        manifest = ModelCatalog().findComplete(a.model, &error);
        if (!manifest)
            return failure(error);
    }
    const int classCount = manifest ? int(manifest->classNames.size()) : 0;
    const std::optional<EvalDataset> dataset = EvalDataset::load(a.images, a.annotations, classCount, &error);
    if (!dataset)
        return failure(error);

    const std::optional<EvalRun> run = manifest ? runModel(*manifest, *dataset, a, &error)
                                                : ModelEvaluation::runPredictions(a.predictions, *dataset, a.maxDet, &error);
    if (!run)
        return failure(error);

    for (const QString &warning : std::as_const(run->warnings))
        cli::standardError() << "warning: " << warning << '\n';
    cli::standardError() << Qt::flush;

    const QByteArray report =
        a.json ? QJsonDocument(run->toJson()).toJson(QJsonDocument::Indented) : run->toText().toUtf8();
    cli::standardOutput() << QString::fromUtf8(report) << Qt::flush;
    if (!a.output.isEmpty() && !writeReport(a.output, report, &error))
        return failure(error);
    if (!run->summary.isValid())
        return failure(QStringLiteral("nothing to score: no class has ground truth boxes in these images"));
    if (a.recordAccuracy) {
        const QString written = recordAccuracy(*manifest, *run, datasetName(a.images), &error);
        if (written.isEmpty())
            return failure(error);
        cli::standardError() << "accuracy recorded in " << QDir::toNativeSeparators(written) << Qt::endl;
    }
    return Scored;
}
