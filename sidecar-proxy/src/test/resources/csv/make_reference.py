"""How pandas reads the CSV bodies of MLflow scoring requests: the reference the sidecar's CSV reader is tested against.

MLflow's scoring server reads a text/csv body with pandas.read_csv (mlflow/pyfunc/scoring_server: parse_csv_input
calls pd.read_csv(csv_input) with default arguments). This script runs each case below through pandas.read_csv the
same way and records, per column, the dtype pandas inferred and the values (NaN as null), or the error.

    /usr/bin/python3 sidecar-proxy/src/test/resources/csv/make_reference.py   # Debian's python3-pandas (1.5)
"""
import io
import json
import math
import os

import pandas as pd

CASES = {
    "plain": "a,b,c\n1,2.5,x\n3,4,y\n",
    "quoted fields, commas and quotes inside": 'name,note\n"Smith, J","said ""hi"""\nLee,plain\n',
    "quoted numbers are numbers": 'a,b\n"1","2.5"\n"3","4"\n',
    "empty fields are missing": "a,b,c\n1,,x\n,2,\n3,4,z\n",
    "pandas NA markers": "a,b\nNA,x\nnull,NaN\n5,None\nn/a,y\n",
    "ints with a missing value become floats": "a\n1\n\n3\n",
    "mixed numbers and text stay text": "a\n1\ntwo\n3\n",
    "exponents and signs": "a,b\n1e3,-2\n+4.5,-0.0\n.5,7\n",
    "booleans": "a,b\nTrue,true\nFalse,FALSE\n",
    "whitespace around numbers": "a,b\n 1 ,2\n3, 4\n",
    "whitespace in text is kept": "a\n x \ny\n",
    "header names are kept as written": "a, b\n1,2\n",
    "crlf line ends": "a,b\r\n1,2\r\n3,4\r\n",
    "no trailing newline": "a,b\n1,2",
    "large integers": "a\n9007199254740993\n-9223372036854775808\n",
    "quoted empty string is missing": 'a,b\n"",1\nx,2\n',
    "newline inside quotes": 'a,b\n"line1\nline2",1\n',
    "a short row is padded with missing values": "a,b,c\n1,2\n3,4,5\n",
    "a long row is refused": "a,b\n1,2\n3,4,5\n",
    "header only": "a,b\n",
    "empty body": "",
}


def column(series):
    values = []
    for v in series.tolist():
        if isinstance(v, float) and math.isnan(v):
            values.append(None)
        elif hasattr(v, "item"):
            values.append(v.item())
        else:
            values.append(v)
    return {"dtype": str(series.dtype), "values": values}


def main():
    out = {}
    for name, text in CASES.items():
        try:
            df = pd.read_csv(io.StringIO(text))
            out[name] = {"csv": text, "columns": [str(c) for c in df.columns],
                         "data": {str(c): column(df[c]) for c in df.columns}}
        except Exception as e:  # recorded: the reader must refuse these too
            out[name] = {"csv": text, "error": type(e).__name__}
    out["_pandas"] = pd.__version__
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
