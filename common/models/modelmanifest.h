#pragma once

#include <QJsonObject>
#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

// One model file as the manifest lists it, resolved to a path once found.
struct ModelFile
{
    QString name;   // file name as it appears in a model folder
    QString sha256; // lower-case hex; empty for files the user brings without a checksum
    QString url;    // upstream address for `models download`; may be empty
    QString path;   // absolute path once located, empty while missing
};

// Everything needed to run a model: docs/MODELS.md documents the JSON form.
struct ModelManifest
{
    QString name;        // "nanodet-m-320"
    QString family;      // "nanodet", "picodet", "yolox", "darknet", "fastestdet", "yolov5", "yolov8", "tf-ssd", "caffe-ssd", "cascade"
    QString description;
    QString license;
    QList<ModelFile> files;
    int inputWidth = 0;
    int inputHeight = 0;

    struct Preprocess
    {
        QString resize = QStringLiteral("letterbox"); // "letterbox" (keep aspect, centred) | "stretch"
        QString interpolation = QStringLiteral("area"); // "area" | "linear" | "cubic"
        double padValue = 0;
        bool swapRB = false;      // true: feed RGB
        double scale = 1.0;       // applied before mean/std
        double mean[3] = {0, 0, 0};
        double std[3] = {1, 1, 1};
    } preprocess;

    // COCO-style accuracy measured on a dataset ("accuracy" in the JSON; `edgelens-cli eval
    // --record-accuracy` writes it): lets a person choose a model by evidence. map < 0: none.
    struct Accuracy
    {
        double map = -1;  // mAP@[.5:.95]
        double ap50 = -1; // < 0: not recorded
        QString dataset;  // "coco128-train"
        bool isKnown() const { return map >= 0; }
        QString text() const; // "mAP 0.383 (coco128-train)"; empty when unknown
        QJsonObject toJson() const;
    } accuracy;

    float defaultConfidence = 0.5f;
    float defaultNmsIou = 0.5f;
    QStringList classNames;
    bool fallback = false; // cascade last resort: announce it wherever the model is shown
    QString manifestPath;  // where it was read from
    // Family-specific settings kept verbatim ("decoder" in the JSON): strides, label offset,
    // cascade parameters... Each decoder validates and documents its own keys.
    QJsonObject decoder;

    bool isComplete() const; // every file located
    QStringList missingFiles() const;
    QJsonObject toJson() const;
    // Errors name the offending field: "nanodet.json: preprocess.mean: expected 3 numbers".
    static std::optional<ModelManifest> fromJson(const QJsonObject &object, const QString &origin, QString *error);
    static std::optional<ModelManifest> load(const QString &manifestPath, QString *error);

    // The 80 COCO names in model order, from the copy embedded in the library.
    static QStringList cocoClassNames();
    static QStringList knownFamilies();
    // Human one-liner for lists: "nanodet-m-320 (nanodet, 320x320) - ready" and the like.
    QString summary() const;
};

} // namespace edgelens
