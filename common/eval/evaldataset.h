#pragma once

#include "eval/groundtruth.h"

#include <QList>
#include <QString>
#include <QStringList>

#include <optional>

namespace edgelens {

struct EvalImage
{
    QString path;         // absolute path of the image file
    QString relativePath; // relative to the images folder ("sub/a.jpg"); sidecars mirror it
    GroundTruthImage groundTruth;
};

// A folder of images paired with their ground truth: a COCO instances JSON (a file) or YOLO
// txt labels (a folder). Images in the folder without COCO annotations entry are left out,
// COCO entries without an image file are left out with a warning.
class EvalDataset final
{
public:
    enum class Format { CocoJson, YoloTxt };

    // classCount > 0 bounds the class ids YOLO labels may use (the model's class count).
    static std::optional<EvalDataset> load(const QString &imagesDir, const QString &annotations, int classCount,
                                           QString *error);

    // Image files under dir (recursive), relative paths, sorted.
    static QStringList scanImages(const QString &dir);

    Format format = Format::CocoJson;
    QStringList classNames; // empty for YOLO labels without classes.txt / *.names
    QList<EvalImage> images; // evaluation order
    QStringList warnings;    // things a person should know, already worded
};

} // namespace edgelens
