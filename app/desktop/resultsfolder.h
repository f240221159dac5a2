#pragma once

// Reads an output folder made earlier (by edgelens-cli --json, by the app, or by the
// tutorial's client) back into gallery items without sending anything. A JSON sidecar names
// its original ("image"): the pair comes back with its detections and any corrections for
// review and export. An original that is no longer where the sidecar says is reported, not
// guessed. Marked-up images without a sidecar come back as results only ("no detection data").

#include "galleryitem.h"

#include <QList>
#include <QString>
#include <QStringList>

namespace edgelens {

class ResultsFolder final
{
public:
    struct Scan
    {
        QList<GalleryItem> items; // finished items, for GalleryModel::addItems
        int pairs = 0;            // sidecar + original found
        int resultsOnly = 0;      // marked-up images without data
        QStringList movedOriginals; // "a.json: /old/place/a.jpg"
        QStringList unreadable;     // sidecars that are not valid JSON
    };

    // A folder the user would call "results": it holds an EdgeLens sidecar, or it is called
    // "inferenced" (the tutorial's and the CLI's default output folder).
    static bool looksLikeOutputFolder(const QString &dir);
    // Pure function of the folder's content: runs on a worker thread.
    static Scan scan(const QString &dir);

private:
    ResultsFolder() = delete;
};

} // namespace edgelens
