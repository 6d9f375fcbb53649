import json

import numpy as np
import pytest

from conftest import NW_UCLA, needs_ucla
from skelssl.data.readers.nw_ucla import read_file, read_nw_ucla
from skelssl.errors import SampleError


@needs_ucla
def test_full_dataset_reads_with_the_standard_split():
    dataset, damaged = read_nw_ucla(NW_UCLA, workers=2)
    assert not damaged and len(dataset.sequences) == 1484
    assert sorted({s.label for s in dataset.sequences}) == list(range(10))
    split = dataset.splits["view3"]
    assert len(split["train"]) == 1020 and len(split["test"]) == 464
    assert all(dataset.sequences[i].meta["view"] == 3 for i in split["test"])
    lengths = [s.num_frames for s in dataset.sequences]
    assert min(lengths) == 1 and max(lengths) == 201
    first = dataset.sequences[0]
    record = json.loads((NW_UCLA / f"{first.name}.json").read_text())
    np.testing.assert_allclose(first.joints[0], np.asarray(record["skeletons"]), rtol=1e-6)
    assert first.meta == {"action": 1, "subject": 1, "episode": 0, "view": 1}


def write(path, **record):
    path.write_text(json.dumps(record))
    return path


@pytest.mark.parametrize("record, message", [
    ({"file_name": "a01_s01_e00_v01", "skeletons": [], "label": 1}, "0 frames"),
    ({"file_name": "a01_s01_e00_v01", "skeletons": [[[0, 0, 0]] * 19], "label": 1},
     "19 joints per frame, but layout 'ucla20' has 20"),
    ({"file_name": "a01_s01_e00_v01", "skeletons": [[[0, 0, 0]] * 20], "label": 11},
     "expected an integer 1..10"),
    ({"file_name": "walk", "skeletons": [[[0, 0, 0]] * 20], "label": 1},
     "its 'file_name' says 'walk'"),
    ({"file_name": "a01_s01_e00_v03", "skeletons": [[[1, 0, 0]] * 20], "label": 1},
     "'file_name' says 'a01_s01_e00_v03', the file is 'a01_s01_e00_v01'"),
    ({"file_name": "a01_s01_e00_v01", "skeletons": [[[1, 0, 0]] * 20], "label": 2},
     "label 2 is action a02, the file name says a01"),
    ({"file_name": "a01_s01_e00_v01", "label": 1}, "'skeletons' and 'label'"),
])
def test_bad_files_are_reported(tmp_path, record, message):
    path = write(tmp_path / "a01_s01_e00_v01.json", **record)
    with pytest.raises(SampleError, match=message) as info:
        read_file(path)
    assert str(path) in str(info.value)


def test_nan_is_reported_with_its_position(tmp_path):
    skeleton = [[[0.1, 0.2, 0.3]] * 20, [[0.1, 0.2, 0.3]] * 20]
    path = write(tmp_path / "a01_s01_e00_v01.json", file_name="a01_s01_e00_v01",
                 skeletons=skeleton, label=1)
    text = path.read_text().replace("0.3]]]", "NaN]]]")
    path.write_text(text)
    with pytest.raises(SampleError, match=r"nan at frame 2, joint 20 \(right_foot\), person 1"):
        read_file(path)


def test_unreadable_json_is_reported(tmp_path):
    path = tmp_path / "a01_s01_e00_v01.json"
    path.write_text('{"skeletons": [[')
    with pytest.raises(SampleError, match="not a readable JSON file"):
        read_file(path)
